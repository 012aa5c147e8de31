"""`safecity register export`: the public transparency register (GeoJSON and a static HTML page)
written from the live camera registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safecity.cli.common import command_group, fail, open_db, out, settings
from safecity.governance.register import export_register

register_app = command_group("The public transparency register.")


@register_app.command("export")
def register_export(
    out_dir: Annotated[Path, typer.Argument(help="Folder for register.geojson and index.html (created).")],
) -> None:
    """Write the public register (GeoJSON + a static HTML page) from the live camera registry."""
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"{out_dir} exists and is not a directory")
    s = settings()
    db = open_db(s, reading=True)
    try:
        geojson_path, html_path = export_register(db, out_dir, recording=s.recording)
    except OSError as exc:
        fail(f"cannot write the register to {out_dir}: {exc}", code=1)
    finally:
        db.close()
    out.print(f"wrote {geojson_path}", soft_wrap=True)
    out.print(f"wrote {html_path}", soft_wrap=True)
