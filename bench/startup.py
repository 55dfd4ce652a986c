"""Start-up of the app under gunicorn: from the exec to the first 200 on /health, against a
bare Flask app (`bench/ceiling.py`) started the same way in the same run.

    .venv/bin/python bench/startup.py [--rounds 9]

Both are started in alternation, one gunicorn sync worker each, on a migrated and seeded
SQLite database (the app) with a bytecode cache of their own, filled by a warm-up start, as a
deployed app has its bytecode. Each start is measured three ways (tests/web/test_startup.py's
helpers): its wall time; the CPU its master and worker spent until the first 200; and its wall
time less the time they waited for a CPU (the kernel's run-queue delay): what the same start
takes on a quiet box. Printed: the median of each, the app's as a ratio of the bare app's,
and the worker's resident memory once started.

Timing lives here and not in a test: on these shared 2-CPU machines the CPU time of one and
the same pure-Python loop varied from 0.58 to 0.99 s in six runs in a row.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import (
    app_env,
    children,
    measure_start,
    measured_env,
    rss_mb,
    run_flask,
    start_gunicorn,
)

TARGETS = {"bare Flask (bench/ceiling.py)": "bench.ceiling:app", "app (wsgi:app)": "wsgi:app"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="starts of each (default 9)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        tmp = Path(folder)
        env = measured_env(app_env(tmp, f"sqlite:///{tmp / 'app.db'}"), tmp)
        run_flask(env, "db", "upgrade", "heads")
        run_flask(env, "seed")
        log = tmp / "gunicorn.log"
        for app in TARGETS.values():  # warm-up: the bytecode cache
            start_gunicorn(env, log, app=app).stop()
        starts = {name: [] for name in TARGETS}
        rss = []
        for _ in range(args.rounds):
            for name, app in TARGETS.items():
                server = start_gunicorn(env, log, app=app)
                starts[name].append(measure_start(server))
                if app == "wsgi:app":
                    rss.append(rss_mb(children(server.process.pid)[0]))
                server.stop()
    print(f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"gunicorn 1 sync worker, {args.rounds} starts of each in alternation; medians in s")
    print(f"{'':32} {'wall':>6} {'CPU':>6} {'quiet wall':>11}")
    medians = {}
    for name, measured in starts.items():
        medians[name] = [statistics.median(getattr(s, f) for s in measured)
                         for f in ("wall", "cpu", "quiet_wall")]
        wall, cpu, quiet = medians[name]
        print(f"{name:32} {wall:6.3f} {cpu:6.3f} {quiet:11.3f}")
    bare, app = (medians[name] for name in TARGETS)
    print(f"{'ratio app / bare':32} " + " ".join(
        f"{a / b:{w}.2f}" for a, b, w in zip(app, bare, (6, 6, 11), strict=True)))
    print(f"app's worker resident at start: {statistics.median(rss):.1f} MB (median)")


if __name__ == "__main__":
    main()
