"""`python -m bench.choices`: choices under concurrency, and the feed lock's share of them.

Every choice appends to the consent change feed (`api.changes.record_event`), and every
writer of the feed takes one global advisory lock (`api.changes.FEED_LOCK`,
`pg_advisory_xact_lock`) just before its insert and holds it until its commit. Many
customers choosing at once queue on that lock; this benchmark measures how much.

**The stack.** Real HTTP against `bin/serve` (production settings, gunicorn, its default
2 processes x 8 threads), as `bench.web` does, not threads in one process: the lock is
held across the commit, by whichever of the server's threads and processes owns it, and
the GIL of one Python process would add waits the real server does not have (and hide
some it has). The database (`consent_choicebench`) is made like the web benchmark's:
100,000 customers, a third with a consent history, the first `--clients` can log in.

**The load.** Each simulated customer logs in (set-up, not measured), opens the
dashboard once (what its forms send: the text's version and hash), then chooses flat
out, no reading time: an htmx POST to `/choices/<purpose>/`, the purposes in turn, each
switched the other way than last time, so that (after its first choice of a purpose)
every choice writes an event and a feed row. The saturation search runs 2, 4, 8, 16, 32
such customers at once, `--step-seconds` each, until the choices per second grow by less
than 5%: `choices_per_s_at_saturation` is the highest rate reached.

**The lock's share (sampling).** A thread of the driver asks PostgreSQL every
`--sample-ms` (10 ms) how many backends are waiting for the feed lock:

    SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
       AND classid = 0 AND objid = FEED_LOCK AND objsubid = 1 AND database = <this one>

(a bigint key below 2^32 is classid 0, objid the key, objsubid 1). The number of waiters
times the real time until the next sample, summed, is the total time choices spent
waiting for the lock in that step (the time integral of the waiters; sampling at a fixed
rate estimates it without bias, whatever the lengths of the waits). The total time
choices took is the sum of their latencies as the clients saw them. So

    feed_lock_wait_share = sum(waiters x interval) / sum(choice latencies)

in the step that reached saturation, the same for each step on stderr, and the highest
of the steps as `feed_lock_wait_share_max` (past the server's 16 threads, requests also
queue in front of gunicorn, which lengthens the latencies and so dilutes the share). The same
sampling counts a granted feed lock: held seconds over the choices made is
`feed_lock_hold_ms`, how long a choice keeps the lock on average (its insert, what
follows it in the transaction, and the commit); the lock's utilisation is that times
the choices per second, and a queue forms as it nears 1. Waits for any
other advisory lock are counted apart (`other_advisory_wait_share`, e.g. the ledger's
log lock), and so are waits for row locks (`row_lock_wait_share`: a customer's row,
which only the same customer's requests would contend for). Only choices run while
sampling, so every waiter is a choice. The sampler costs one small query per 10 ms (one
PostgreSQL backend, about 2% of a core).

Prints `bench <name> <value>` lines; never part of `make test`.
"""

import argparse
import asyncio
import os
import sys
import threading
import time
from pathlib import Path

from bench.figures import figure_line, wait_share

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "consent_choicebench"
CONCURRENCY_STEPS = (2, 4, 8, 16, 32)
TARGET_SHARE = "< 0.10"

# One sample: waiters for the feed lock, for other advisory locks, for row locks; and
# whether a transaction holds the feed lock.
SAMPLE_SQL = """
SELECT count(*) FILTER (WHERE NOT granted AND locktype = 'advisory' AND classid = 0
                          AND objid = %(key)s AND objsubid = 1),
       count(*) FILTER (WHERE NOT granted AND locktype = 'advisory'
                          AND NOT (classid = 0 AND objid = %(key)s AND objsubid = 1)),
       count(*) FILTER (WHERE NOT granted AND locktype IN ('tuple', 'transactionid')),
       count(*) FILTER (WHERE granted AND locktype = 'advisory' AND classid = 0
                          AND objid = %(key)s AND objsubid = 1)
  FROM pg_locks
 WHERE locktype IN ('advisory', 'tuple', 'transactionid')
   AND (database IS NULL OR database = (SELECT oid FROM pg_database
                                         WHERE datname = current_database()))
"""


class LockSampler(threading.Thread):
    """Samples lock waiters until stopped; `integrals()` are the waiter-seconds since the
    last call (feed lock, other advisory locks, row locks) and the seconds the feed lock
    was held."""

    def __init__(self, url: str, key: int, interval: float):
        super().__init__(daemon=True)
        self.url, self.key, self.interval = url, key, interval
        self.lock = threading.Lock()
        self.totals = [0.0, 0.0, 0.0, 0.0]
        self.samples = 0
        self.stopping = threading.Event()

    def run(self):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            previous, last = time.perf_counter(), (0, 0, 0, 0)
            while not self.stopping.is_set():
                counts = conn.execute(SAMPLE_SQL, {"key": self.key}).fetchone()
                now = time.perf_counter()
                with self.lock:
                    # The waiters seen at the previous sample, for the time since it
                    # (left Riemann sum; the first interval counts zero waiters).
                    for n in range(4):
                        self.totals[n] += last[n] * (now - previous)
                    self.samples += 1
                previous, last = now, counts
                self.stopping.wait(self.interval)

    def integrals(self) -> tuple[list[float], int]:
        with self.lock:
            totals, samples = self.totals, self.samples
            self.totals, self.samples = [0.0, 0.0, 0.0, 0.0], 0
        return totals, samples


async def chooser(person, latencies, deadline, offset):
    """One customer choosing flat out until the deadline; latencies in seconds."""
    from bench.web import PURPOSES

    n = offset
    while time.perf_counter() < deadline:
        purpose = PURPOSES[n % len(PURPOSES)]
        choice = person.next_choice.get(purpose, "withdraw")
        started = time.perf_counter()
        status = await person.choose(purpose, choice)
        latencies.append((time.perf_counter() - started, status))
        person.next_choice[purpose] = "grant" if choice == "withdraw" else "withdraw"
        n += 1


async def drive(base, *, clients, step_seconds, sampler):
    import aiohttp

    from bench.web import SimulatedCustomer

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    steps = []
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        people = [SimulatedCustomer(http, base, f"{700000 + n}") for n in range(clients)]
        for person in people:  # set-up, not measured
            await person.log_in()
            await person.dashboard()
            person.next_choice = {}
        best = None
        for concurrency in [c for c in CONCURRENCY_STEPS if c <= clients]:
            latencies: list[tuple[float, int]] = []
            sampler.integrals()  # from here on
            started = time.perf_counter()
            deadline = started + step_seconds
            await asyncio.gather(
                *(chooser(people[n], latencies, deadline, n) for n in range(concurrency))
            )
            elapsed = time.perf_counter() - started
            (feed, other, rows, held), samples = sampler.integrals()
            ok = [seconds for seconds, status in latencies if status == 200]
            step = {
                "concurrency": concurrency,
                "choices_per_s": len(ok) / elapsed,
                "not_ok": len(latencies) - len(ok),
                "p50_ms": percentile(ok, 0.5) * 1000,
                "p99_ms": percentile(ok, 0.99) * 1000,
                # Time-integrated waiters over time-integrated choices in flight.
                "feed_lock_wait_share": wait_share(feed, sum(s for s, _ in latencies)),
                "other_advisory_wait_share": wait_share(other, sum(s for s, _ in latencies)),
                "row_lock_wait_share": wait_share(rows, sum(s for s, _ in latencies)),
                # How long a choice holds the lock, on average: held seconds per choice.
                "feed_lock_hold_ms": held / len(ok) * 1000 if ok else 0.0,
                "samples": samples,
                "load_average": os.getloadavg()[0],
            }
            steps.append(step)
            print(
                f"step: {concurrency} at once, {step['choices_per_s']:.1f} choices/s,"
                f" p50 {step['p50_ms']:.0f} ms, p99 {step['p99_ms']:.0f} ms, feed lock"
                f" {step['feed_lock_wait_share']:.1%} of choice time (other advisory"
                f" {step['other_advisory_wait_share']:.1%}, row locks"
                f" {step['row_lock_wait_share']:.1%}; held {step['feed_lock_hold_ms']:.1f} ms"
                f" per choice; {samples} samples), load"
                f" {step['load_average']:.2f}",
                file=sys.stderr,
                flush=True,
            )
            grew = best is None or step["choices_per_s"] > best["choices_per_s"] * 1.05
            if best is None or step["choices_per_s"] > best["choices_per_s"]:
                best = step
            if not grew:
                break
    return best, steps


def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=max(CONCURRENCY_STEPS))
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--sample-ms", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--reuse-database", action="store_true", help="skip preparing: the last run's database"
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from bench import web

    web.DATABASE = DATABASE
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    if "DATABASE_URL" not in os.environ:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
        from infra.database import embedded_server

        embedded_server()
    env["DATABASE_URL"], env["DATABASE_OWNER_URL"] = web.database_urls()
    if not args.reuse_database:
        print(f"preparing {args.customers} customers ...", file=sys.stderr, flush=True)
        web.prepare(customers=args.customers, clients=args.clients, env=env)

    # The lock's key from the code that takes it (api.changes needs Django set up).
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    import django

    django.setup()
    from api.changes import FEED_LOCK

    print(f"bench load_average_start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    server, base = web.serve(env=env, port=args.port)
    sampler = LockSampler(env["DATABASE_URL"], FEED_LOCK, args.sample_ms / 1000)
    try:
        web.wait_for(base + "/healthz")
        sampler.start()
        best, steps = asyncio.run(
            drive(base, clients=args.clients, step_seconds=args.step_seconds, sampler=sampler)
        )
    finally:
        sampler.stopping.set()
        server.terminate()
        server.wait(timeout=30)
    for line in (
        figure_line("choices_per_s_at_saturation", best["choices_per_s"]),
        figure_line("choices_at_saturation_concurrency", best["concurrency"]),
        figure_line("choice_p99_ms_at_saturation", best["p99_ms"]),
        figure_line(
            "feed_lock_wait_share", best["feed_lock_wait_share"], target=TARGET_SHARE, digits=3
        ),
        # Past the server's threads (2 x 8) requests also queue before gunicorn, which
        # dilutes the share: the worst step is printed too.
        figure_line(
            "feed_lock_wait_share_max",
            max(step["feed_lock_wait_share"] for step in steps),
            digits=3,
        ),
        figure_line("feed_lock_hold_ms", best["feed_lock_hold_ms"]),
        figure_line("other_advisory_wait_share", best["other_advisory_wait_share"], digits=3),
        figure_line("row_lock_wait_share", best["row_lock_wait_share"], digits=3),
        figure_line("choices_not_ok", best["not_ok"]),
    ):
        print(line, flush=True)
    print(f"bench load_average_end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
