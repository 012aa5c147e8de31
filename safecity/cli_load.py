"""Command line for the load simulation: `safecity sim load` offers a city's observation stream to the
data path and prints the scaling table (and, with `--png`, draws it)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from safecity.cli import fail, out, settings, sim_app


def _steps(text: str, cameras: int) -> list[int]:
    if not text:
        return [cameras]
    try:
        steps = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        fail(f"--steps must be camera counts separated by commas, got {text!r}")
    if not steps or steps[0] < 1:
        fail(f"--steps must be positive camera counts, got {text!r}")
    return steps


@sim_app.command("load")
def sim_load(
    cameras: Annotated[int, typer.Option(min=1, help="Cameras to simulate (the largest step).")] = 1000,
    rate: Annotated[float, typer.Option(help="Mean observations per camera per second.")] = 0.3,
    seconds: Annotated[float, typer.Option(help="Length of each run.")] = 20.0,
    steps: Annotated[
        str,
        typer.Option(help="Camera counts to run one after the other, e.g. 10,100,1000 (default: --cameras)."),
    ] = "",
    database_url: Annotated[
        str | None,
        typer.Option(help="A scratch database to load (default: a new SQLite file under <data_dir>/load)."),
    ] = None,
    png: Annotated[Path | None, typer.Option(help="Draw the scaling curve into this PNG.")] = None,
    ceiling: Annotated[bool, typer.Option(help="Also run unpaced, to find the most the path takes.")] = False,
) -> None:
    """Simulate the observation stream of a city's cameras into the sink (no video) and measure it."""
    from safecity.cluster.load import LoadProfile, run_load, scaling_png, table
    from safecity.store.database import Database

    s = settings()
    if not (rate > 0 and seconds > 0):
        fail("--rate and --seconds must be positive")
    counts = _steps(steps, cameras)
    if png is not None and not png.parent.is_dir():
        fail(f"{png.parent} is not a folder: cannot write {png}")
    results = []
    for n in counts:
        for paced in (True, False) if ceiling else (True,):
            scratch = s.data_dir / "load" / f"{n}-{'paced' if paced else 'max'}"
            if database_url is None:
                shutil.rmtree(scratch, ignore_errors=True)
                scratch.mkdir(parents=True)
                url = f"sqlite:///{scratch / 'load.db'}"
            else:
                url = database_url
            db = Database.open(url, s.store)
            try:
                results.append(run_load(db, s, LoadProfile(n, rate, seconds), paced=paced))
            except ValueError as exc:
                fail(str(exc))
            finally:
                db.close()
            out.print(f"{n} cameras {'paced' if paced else 'unpaced'}: done", highlight=False)
    print(table(results))
    if png is not None:
        scaling_png(results, str(png))
        out.print(f"wrote {png}")
