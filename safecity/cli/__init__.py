"""The `safecity` command line: `app` (the root, which mounts every group), `common` (what the
commands share) and one module per command group or top-level command.

The console script is `safecity.cli.app:main`. Nothing is imported here, so that importing one
group module does not build the whole tree.
"""
