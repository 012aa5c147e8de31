"""`safecity config show`: the effective settings (defaults + safecity.toml + SAFECITY_* environment)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import tomli_w
import typer

from safecity.cli.common import command_group, out, settings
from safecity.config import redact_url

config_app = command_group("Show the effective configuration.")


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of TOML.")] = False,
) -> None:
    """Print the effective settings (defaults + safecity.toml + SAFECITY_* environment)."""
    s = settings()
    data = json.loads(s.model_dump_json())
    # Relative paths depend on where the command runs, so show what they resolve to here.
    data["data_dir"] = str(s.data_dir.resolve())
    data["database_url"] = redact_url(s.effective_database_url)
    data["media_dir"] = str(s.effective_media_dir.resolve())
    data["faces"]["model_cache_dir"] = str(s.effective_model_cache_dir.resolve())
    data["faces"]["index_path"] = str(s.effective_face_index_path.resolve())
    data["governance"]["anchor_path"] = str(s.effective_anchor_path.resolve())
    if as_json:
        out.print_json(data=data)
    else:
        print(tomli_w.dumps(_without_none(data)), end="")


def _without_none(value: Any) -> Any:
    """TOML has no null: unset optional settings are left out of the printed file."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value
