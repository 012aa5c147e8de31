"""The `safecity` command: the root Typer app, which mounts every command group and top-level command
explicitly, its global options (`--config`, `--version`), and `main`, the console script.

Each group lives in its own module (`camera`, `search`, ...) and knows nothing of this one; the
order below is the order `safecity --help` lists them in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safecity import __version__
from safecity.cli import (
    alerts,
    audit,
    authorisation,
    camera,
    config,
    db,
    demo,
    doctor,
    eval,
    faces,
    hotlist,
    process,
    register,
    retention,
    search,
    serve,
    sim,
    traffic,
    users,
    watchlist,
)
from safecity.cli.common import CommandGroup, use_config_file

app = typer.Typer(
    help="Open Safe City: open, accountable city video analytics.", no_args_is_help=True, cls=CommandGroup
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"safecity {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    config_file: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML settings file (default ./safecity.toml).")
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
) -> None:
    use_config_file(config_file)


app.command("process")(process.process)
app.command("demo")(demo.demo)
app.command("doctor")(doctor.doctor)
app.command("serve")(serve.serve)
app.command("api")(serve.api_replica)
app.command("status")(serve.status)

app.add_typer(config.config_app, name="config")
app.add_typer(db.db_app, name="db")
app.add_typer(camera.camera_app, name="camera")
app.add_typer(sim.sim_app, name="sim")
app.add_typer(hotlist.hotlist_app, name="hotlist")
app.add_typer(search.search_app, name="search")
app.add_typer(eval.eval_app, name="eval")
app.add_typer(alerts.alert_app, name="alert")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(authorisation.authorisation_app, name="authorisation")
app.add_typer(watchlist.watchlist_app, name="watchlist")
app.add_typer(faces.faces_app, name="faces")
app.add_typer(register.register_app, name="register")
app.add_typer(retention.retention_app, name="retention")
app.add_typer(traffic.traffic_app, name="traffic")
app.add_typer(users.user_app, name="user")


def main() -> None:
    app()
