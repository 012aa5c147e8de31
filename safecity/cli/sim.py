"""`safecity sim render | load | rtsp`: the synthetic city.

`render` draws the city's clips and ground truth; `load` offers a city's observation stream to the
data path (no video) and prints the scaling table; `rtsp` serves rendered clips as live cameras.
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from safecity.cli.common import command_group, fail, out, settings
from safecity.registry.geojson import STREAM_URL
from safecity.store.database import Database

# Rendering (av, cv2) and the load run (cv2) are imported inside the commands: `safecity --help`
# stays light.

sim_app = command_group("The synthetic city.")


@sim_app.command("render")
def sim_render(
    out_dir: Annotated[Path, typer.Argument(help="Folder for clips, ground truth and cameras.geojson.")],
    cameras: Annotated[int | None, typer.Option(help="Number of cameras.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Clip length in seconds.")] = None,
    seed: Annotated[int | None, typer.Option(help="Scenario seed.")] = None,
) -> None:
    """Render the synthetic city: one H.264 clip per camera plus ground truth."""
    from safecity.demo.run import render_with_progress, write_register

    s = settings()
    try:
        city = render_with_progress(out_dir, s, cameras=cameras, seconds=seconds, seed=seed, console=out)
        register = write_register(city, out_dir / "cameras.geojson")
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out_dir}: cannot write: {exc.strerror or exc}")
    out.print(
        f"rendered {len(city.clips)} clip(s) to {out_dir}; ground truth {city.truth_path}; "
        f"register {register} (load it with `safecity camera import {register}`)"
    )


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


@sim_app.command("rtsp")
def sim_rtsp(
    directory: Annotated[Path, typer.Argument(help="Folder of a rendered city (`safecity sim render`).")],
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="RTSP port on 127.0.0.1 (0: any free port).")
    ] = 8554,
) -> None:
    """Serve a rendered city's clips as looping RTSP cameras (GStreamer; Debian's python3-gi).

    Writes DIRECTORY/cameras-rtsp.geojson, the city's register with each camera's rtsp:// URL, for
    `safecity camera import` and `safecity serve`. Runs until Ctrl-C or SIGTERM.
    """
    from safecity.sim.rtsp import RtspServer, RtspServerError, unavailable_reason

    register = directory / "cameras.geojson"
    if not register.is_file():
        fail(f"{register}: no such file; render the city first with `safecity sim render {directory}`")
    data = json.loads(register.read_text("utf-8"))
    mounts: dict[str, Path] = {}
    for feature in data.get("features", []):
        ref = str(feature.get("properties", {}).get("ref", ""))
        clip = directory / f"{ref}.mp4"
        if not clip.is_file():
            fail(f"{clip}: no clip for camera {ref!r}")
        mounts[ref] = clip
    if not mounts:
        fail(f"{register}: no cameras to serve")
    if reason := unavailable_reason():
        fail(f"cannot serve RTSP: {reason}", code=1)
    try:
        server = RtspServer(mounts, port=port).start()
    except ValueError as exc:
        fail(str(exc))
    except RtspServerError as exc:
        fail(str(exc), code=1)
    for feature in data.get("features", []):
        feature["properties"][STREAM_URL] = server.url(str(feature["properties"]["ref"]))
    stop = threading.Event()
    # The server is a child process: stopping this command (Ctrl-C, SIGTERM) must stop it too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    try:
        target = directory / "cameras-rtsp.geojson"
        target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        out.print(
            f"serving {len(mounts)} cameras at rtsp://127.0.0.1:{server.port}/<camera id>; register: {target}"
        )
        out.print(f"next: safecity camera import {target} --replace && safecity serve")
        while not stop.wait(0.5):
            if not server.running:
                fail(
                    f"the RTSP server stopped (exit code {server.returncode}): {server.last_words()}", code=1
                )
    finally:
        server.stop()
