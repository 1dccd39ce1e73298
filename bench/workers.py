"""An engine run on worker processes (`offers_worker`), measured.

`measure_two_workers(as_of=D)` starts two `manage.py offers_worker` processes on the
database this process uses (its `DATABASE_URL`, as the runtime role), waits until they
poll, runs `manage.py generate_offers --queue --as-of D` (which queues the run's chunks
and waits for the run to end), stops the workers and returns the run's seconds: its
OfferRun, start to end, as `engine_s` measures the run in one process.

D must be an as-of date without a run (a run for an earlier date leaves its offers open,
so both runs after it propose about as little; the read, which dominates, is the same).

Wired into `python -m bench` after its run in one process:

    from bench.workers import measure_two_workers
    workers_s = measure_two_workers(as_of=as_of + dt.timedelta(days=1))
    print(f"bench engine_2workers_s {workers_s:.2f}")
    print(f"bench workers_speedup {engine_s / workers_s:.2f}")

Alone, on the database `python -m bench` leaves behind (`consent_bench`):
`python -m bench.workers` runs the engine in one process and on two workers, each for an
as-of date of its own after the newest one there, and prints

    bench engine_inline_s N      one process, one chunk (as engine_s)
    bench engine_2workers_s N    two offers_worker processes, OFFERS_CHUNK_SIZE customers a chunk
    bench workers_speedup N      engine_inline_s / engine_2workers_s (target ≥ 1.5)
"""

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import log

ROOT = Path(__file__).resolve().parent.parent
MANAGE = str(ROOT / "manage.py")
READY_SECONDS = 120  # a bound for a worker that never starts (then the bench fails)


def measure_two_workers(
    *, as_of: dt.date, workers: int = 2, chunk_size: int | None = None, say=log
) -> float:
    """Seconds of one run for `as_of` on `workers` worker processes (see the module)."""
    from offers.models import OfferRun

    if OfferRun.objects.filter(as_of=as_of).exists():
        raise ValueError(f"{as_of} has a run already: measure on an as-of date of its own")
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as folder:
        logs = [Path(folder) / f"worker-{n}.log" for n in range(workers)]
        processes = [_start_worker(path) for path in logs]
        try:
            _wait_until_polling(processes, logs)
            say(f"{workers} workers polling; generate_offers --queue --as-of {as_of}")
            command = [sys.executable, MANAGE, "generate_offers", "--queue", "--as-of", str(as_of)]
            if chunk_size:
                command += ["--chunk-size", str(chunk_size)]
            subprocess.run(command, check=True, cwd=ROOT, stdout=sys.stderr)
        finally:
            _stop(processes)
    run = OfferRun.objects.filter(as_of=as_of).latest("pk")
    chunks = run.chunks.count()
    seconds = (run.finished_at - run.started_at).total_seconds()
    say(f"run {run.pk}: {chunks} chunks on {workers} workers in {seconds:.2f} s")
    return seconds


def measure_inline(*, as_of: dt.date, say=log) -> float:
    """Seconds of one run for `as_of` in one process (`generate_offers`, as `engine_s`)."""
    from offers.models import OfferRun

    subprocess.run(
        [sys.executable, MANAGE, "generate_offers", "--as-of", str(as_of)],
        check=True,
        cwd=ROOT,
        stdout=sys.stderr,
    )
    run = OfferRun.objects.filter(as_of=as_of).latest("pk")
    seconds = (run.finished_at - run.started_at).total_seconds()
    say(f"run {run.pk}: in one process in {seconds:.2f} s")
    return seconds


def _start_worker(path: Path) -> subprocess.Popen:
    with open(path, "w") as output:
        return subprocess.Popen(
            [sys.executable, MANAGE, "offers_worker", "--interval", "0.1", "--no-startup-delay",
             "--no-reload"],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _wait_until_polling(processes, logs) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        for process, path in zip(processes, logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"a worker stopped: {path.read_text()[-2000:]}")
        if all("Starting worker" in path.read_text() for path in logs):
            return
        time.sleep(0.2)
    raise RuntimeError("the worker processes did not start polling")


def _stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()  # idle workers stop at once; a busy one after its task
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workers")
    parser.add_argument("--chunk-size", type=int, default=None, help="default OFFERS_CHUNK_SIZE")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    if "BENCH_DATABASE_URL" in os.environ:
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    else:
        sys.path.insert(0, str(ROOT))
        from infra.database import RUNTIME_ROLE, embedded_url

        os.environ["DATABASE_URL"] = embedded_url(RUNTIME_ROLE, "consent_bench")
    import django

    django.setup()
    from django.db.models import Max

    from offers.models import OfferRun

    latest = OfferRun.objects.aggregate(latest=Max("as_of"))["latest"]
    if latest is None:
        raise SystemExit("no run in consent_bench: run `python -m bench` first")
    inline_s = measure_inline(as_of=latest + dt.timedelta(days=1))
    workers_s = measure_two_workers(as_of=latest + dt.timedelta(days=2), chunk_size=args.chunk_size)
    print(f"bench engine_inline_s {inline_s:.2f}")
    print(f"bench engine_2workers_s {workers_s:.2f}")
    print(f"bench workers_speedup {inline_s / workers_s:.2f}")


if __name__ == "__main__":
    main()
