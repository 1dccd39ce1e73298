"""Run with `make bench` (or `python -m bench [--scale 0.1]`).

In a database of its own (`consent_bench`, dropped and made again each time, so dev data
is never touched): 100,000 customers with accounts, holdings and consents (about a third
per offers purpose), and 10,000,000 transactions over 13 months (this month and the
twelve before it, as a bank keeps them) loaded through `import_transactions`. Then, in
one run, it measures and prints one line per figure (README, Benchmarks; README, Runs and workers):

    bench import_rows_per_s N    transactions per second through import_transactions
    bench engine_s N             a whole generate_offers run (its OfferRun, start to end)
    bench scan_s N               the floor: one bare consent-joined GROUP BY over the
                                 engine's window (the months it covers, not the table)
    bench engine_vs_scan N       engine_s / scan_s (target ≤ 1.5)
    bench engine_peak_rss_mb N   peak memory of the generate_offers process (target < 500)
    bench customers_per_s N      customers in the database / engine_s
    bench import_cpu_s N         CPU seconds behind import_s (PostgreSQL and Python);
    bench engine_cpu_s N         and behind the engine's process (with its start-up),
    bench scan_cpu_s N           and the floor: on a busy machine wall-clock time grows,
                                 these hardly do
    bench engine_2workers_s N    the same run as tasks on two offers_worker processes
    bench workers_speedup N      a one-process run / engine_2workers_s (target ≥ 1.5 on 2 cores)
    bench naive_vs_engine N      per-customer ORM loop on a 1% sample, scaled, / engine_s
    bench transaction_bytes N    pg_total_relation_size of the transactions / their rows
    bench customer_bytes N       the same for every table that grows with customers
    bench database_mb N          the whole bench database
    bench engine_scaling_exponent N
                                 slope of log(engine time) over log(transactions), least
                                 squares over three scales (target ≤ 1.1, 1.0 is linear)
    bench engine_cpu_scaling_exponent N   the same over engine_cpu_s

How the engine's cost grows: first, each in a process and a fresh database of its own,
the data at a quarter and at half of `--scale` (`--scaling-points 0.25,0.5`, customers
and transactions alike) and the engine run on it (`--engine-only`); then the full data.
At each scale the engine runs twice (`engine_s`, then for the next as-of date) and the
faster run counts: on a shared machine the slower one mostly measures the neighbours.
The CPU exponent takes the smaller CPU seconds of the two runs, Django's start-up
included (which pulls it a little under the wall-clock one), and the whole PostgreSQL
server's, autovacuum included (a run that finds autovacuum at work on the fresh data
costs more: its twin usually does not).

Before the figures it prints what they were measured on (commit, cores, load average,
PostgreSQL), after them the load average again; the machine may be shared, so read the
figures with it. Every run is appended, with all of that, as one JSON line to
`bench/results/<date>.jsonl`, so that a regression shows against earlier runs.
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

from bench import log
from bench.figures import figure_line, loglog_slope

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
DATABASE = "consent_bench"
MCC_FILE = ROOT / "offers" / "data" / "mcc_codes.csv"  # public domain; see its README
MONTHS_KEPT = 13
# The engine also runs on a quarter and a half of the data (customers and transactions
# alike) for `engine_scaling_exponent`, the slope of log(engine_s) over log(transactions).
SCALING_POINTS = (0.25, 0.5)
TARGETS = {
    "import_rows_per_s": "≥ 200000",
    "engine_vs_scan": "≤ 1.5",
    "engine_peak_rss_mb": "< 500",
    "workers_speedup": "≥ 1.5",
    "engine_scaling_exponent": "≤ 1.1",
}


def scaling_point(scale: float) -> dict:
    """`python -m bench --scale S --engine-only` in a process of its own: its figures."""
    log(f"scaling point: scale {scale:g}, in a process of its own")
    answer = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", str(scale), "--engine-only"],
        cwd=ROOT,
        check=True,
        capture_output=False,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    figures = {}
    for line in answer.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "bench":
            figures[parts[1]] = parts[2]
    return {
        "scale": scale,
        "transactions": int(figures["transactions"]),
        "engine_s": float(figures["engine_s"]),
        "engine_best_s": float(figures["engine_best_s"]),
        "engine_cpu_s": number(figures["engine_cpu_s"]),
        "engine_best_cpu_s": number(figures["engine_best_cpu_s"]),
    }


def number(text: str) -> float | None:
    return None if text == "n/a" else float(text)


def least(*values: float | None) -> float | None:
    """The smallest of the values measured (None when one was not: no /proc, a remote server)."""
    return None if None in values else min(v for v in values if v is not None)


def inline_with_cpu(measure_inline, as_of: dt.date) -> tuple[float, float | None]:
    """A run in one process (`bench.workers.measure_inline`): its seconds and CPU seconds."""
    cpu0 = (server_cpu_s(), own_cpu_s(resource.RUSAGE_CHILDREN))
    seconds = measure_inline(as_of=as_of)
    return seconds, cpu_used(*cpu0, who=resource.RUSAGE_CHILDREN)


# The tables that grow with customers (everything a customer has but transactions) and
# the one that grows with transactions; sizes with indexes and TOAST
# (pg_total_relation_size), summed over partitions.
PER_CUSTOMER_TABLES = (
    "consent_customer", "auth_user", "offers_account", "offers_holding",
    "consent_consentevent", "consent_consentstate", "api_consentchange", "ledger_logleaf",
    "ledger_treenode", "offers_offer", "offers_offerevent",
)  # fmt: skip
TRANSACTIONS_TABLE = "offers_transaction"


def table_sizes(*, customers: int, transactions: int) -> dict:
    """Bytes per transaction and per customer on the bench database, and its whole size."""
    from django.db import connection

    def total(table: str) -> int:
        with connection.cursor() as cursor:
            # A partitioned table's own size is 0: its partitions hold the rows.
            cursor.execute(
                "SELECT pg_total_relation_size(t) + coalesce((SELECT sum("
                "       pg_total_relation_size(relid)) FROM pg_partition_tree(t)"
                "        WHERE relid <> t), 0)"
                "  FROM to_regclass(%s) t",
                [table],
            )
            return int(cursor.fetchone()[0])

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        database = int(cursor.fetchone()[0])
    per_customer = {table: total(table) for table in PER_CUSTOMER_TABLES}
    log("bytes per customer, by table: " + ", ".join(
        f"{table} {size / customers:.0f}" for table, size in per_customer.items()
    ))  # fmt: skip
    return {
        "transaction_bytes": round(total(TRANSACTIONS_TABLE) / transactions),
        "customer_bytes": round(sum(per_customer.values()) / customers),
        "database_mb": round(database / 1e6),
    }


class ImportSteps(io.TextIOBase):
    """`import_transactions`' stderr: its steps, timestamped, into the log (it shows them
    on a terminal only, hence `isatty`; its progress bar is left out)."""

    def isatty(self):
        return True

    def write(self, text):
        for line in text.splitlines():
            line = line.strip("\r ")
            if line and not line.startswith("["):
                log("import: " + line.removeprefix("… "))
        return len(text)


def setup_database() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    # The benchmark's ledger is thrown away with its database: it needs a chain key, not
    # the developer's (which a fresh clone does not have before `make run`).
    os.environ.setdefault("LEDGER_HMAC_KEY", "bench-only-chain-key-not-secret")
    if "BENCH_DATABASE_URL" in os.environ:
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        os.environ["DATABASE_OWNER_URL"] = os.environ["BENCH_DATABASE_OWNER_URL"]
    else:
        sys.path.insert(0, str(ROOT))
        from infra.database import (
            OWNER_ROLE,
            RUNTIME_ROLE,
            embedded_url,
            recreate_embedded_database,
        )

        recreate_embedded_database(DATABASE)
        # Like production: migrate as the owner, everything else as the runtime role.
        os.environ["DATABASE_URL"] = embedded_url(RUNTIME_ROLE, DATABASE)
        os.environ["DATABASE_OWNER_URL"] = embedded_url(OWNER_ROLE, DATABASE)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Like production: only migrate has the owner's credentials, not the workers it starts.
    os.environ.pop("DATABASE_OWNER_URL", None)


def load_mccs() -> tuple[str, ...]:
    """Every merchant category code of ISO 18245, from the file in the repository."""
    import csv

    with open(MCC_FILE, encoding="utf-8") as handle:
        return tuple(row["mcc"] for row in csv.DictReader(handle) if row["mcc"].isdigit())


def git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args],  # noqa: S607 (git from PATH, like make)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def server_cpu_s() -> float | None:
    """CPU seconds the embedded PostgreSQL has used so far: the postmaster and its
    running processes, plus the ended ones (counted into the postmaster when it reaps
    them). Unlike wall-clock time this hardly changes with what else runs on the machine.
    None for a server elsewhere (BENCH_DATABASE_URL) or without /proc."""
    if "BENCH_DATABASE_URL" in os.environ:
        return None
    from infra.database import PGDATA

    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid):
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()

    try:
        postmaster = int((PGDATA / "postmaster.pid").read_text().split()[0])
        fields = stat(postmaster)
        total = sum(int(fields[i]) for i in (11, 12, 13, 14))  # own and reaped children
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    fields = stat(entry.name)
                except OSError:
                    continue  # ended meanwhile
                if int(fields[1]) == postmaster:
                    total += int(fields[11]) + int(fields[12])
    except (OSError, ValueError):
        return None
    return total / tick


def own_cpu_s(who=resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def cpu_used(server_before, own_before, who=resource.RUSAGE_SELF) -> float | None:
    server = server_cpu_s()
    if server is None or server_before is None:
        return None
    return round(server - server_before + own_cpu_s(who) - own_before, 1)


def machine() -> dict:
    """What the figures were measured on."""
    return {
        "commit": git("rev-parse", "--short=12", "HEAD"),
        "uncommitted_changes": git("status", "--porcelain", "--untracked-files=no") != "",
        "cpus": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k customers, 10M rows")
    parser.add_argument("--sample", type=float, default=0.01, help="share of customers, naive")
    parser.add_argument(
        "--scaling-points",
        type=lambda text: [float(share) for share in text.split(",") if share],
        default=list(SCALING_POINTS),
        help="the smaller scales the engine also runs at, as shares of --scale"
        " (comma-separated; '' for none, then no engine_scaling_exponent)",
    )
    parser.add_argument(
        "--engine-only",
        action="store_true",
        help="make the data and run the engine once, print engine_s and stop (what each"
        " scaling point runs)",
    )
    args = parser.parse_args()
    customers_n = int(100_000 * args.scale)
    transactions_n = int(10_000_000 * args.scale)
    started = time.monotonic()
    context = machine()
    for name in ("commit", "uncommitted_changes", "cpus"):
        print(f"bench {name} {context[name]}")
    print(f"bench load_average_start {' '.join(map(str, context['load_average_start']))}")
    # The smaller scales first, each in a process and a fresh database of its own (the
    # same name: the full-scale data made last is what `bench.workers` finds after).
    points = (
        [] if args.engine_only else [scaling_point(args.scale * s) for s in args.scaling_points]
    )
    setup_database()

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from banking import synthetic
    from banking.customer_imports import CustomerImport
    from banking.imports import AccountImport, HoldingImport
    from banking.models import transaction_partitions
    from bench.consents import current_texts_from, grant_in_bulk
    from bench.naive import naive_offers
    from consent.models import Customer
    from offers import gate
    from offers.models import OfferRun
    from offers.rules import RULES

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        context["postgresql"] = cursor.fetchone()[0]
    print(f"bench postgresql {context['postgresql']}")

    DATA.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    as_of = timezone.localdate(now)
    numbers = [str(1_000_000 + i) for i in range(customers_n)]

    log(f"customers, accounts, holdings: {customers_n:,}")
    CustomerImport(today=as_of).run(
        synthetic.write_csv(
            DATA / "customers.csv",
            CustomerImport.columns,
            synthetic.customer_rows(count=customers_n, first_number=1_000_000, today=as_of, seed=1),
        )
    )
    accounts = list(synthetic.account_rows(customer_numbers=numbers, seed=2))
    AccountImport().run(synthetic.write_csv(DATA / "accounts.csv", AccountImport.columns, accounts))
    HoldingImport().run(
        synthetic.write_csv(
            DATA / "holdings.csv",
            HoldingImport.columns,
            synthetic.holding_rows(customer_numbers=numbers, seed=3),
        )
    )
    by_number = {c.customer_number: c for c in Customer.objects.all()}
    granted = grant_in_bulk(
        synthetic.consent_histories(
            customers=[(number, by_number[number].birth_date) for number in numbers],
            texts_from=current_texts_from(),
            now=now,
            leave_by=as_of,
            seed=4,
        ),
        customers_by_number=by_number,
    )
    log(f"consents granted: {granted:,}")

    since = synthetic.first_day_of_months(as_of, MONTHS_KEPT)
    log(f"generating {transactions_n:,} transactions booked {since:%Y-%m-%d} to {as_of}")
    path = synthetic.write_transactions_csv(
        DATA / "transactions.csv",
        ibans=[row[0] for row in accounts if row[2] == "checking"],
        count=transactions_n,
        as_of=as_of,
        since=since,
        mccs=load_mccs(),
    )
    log(f"importing {path.stat().st_size / 1e9:.2f} GB through import_transactions")
    t0, cpu0 = time.perf_counter(), (server_cpu_s(), own_cpu_s())
    call_command("import_transactions", str(path), stdout=sys.stderr, stderr=ImportSteps())
    import_s = time.perf_counter() - t0
    import_cpu_s = cpu_used(*cpu0)
    months = [p for p in transaction_partitions() if p.end > since and p.start <= now]
    log(f"{len(months)} months hold transactions: {months[0].name} to {months[-1].name}")
    # The transactions are left frozen and analysed by the import itself (as in
    # production, where nobody runs this). The rest was made here in minutes, where a
    # bank's grew over years with autovacuum behind it: settled now, so that neither the
    # engine's first run nor autovacuum at work beside it pays for that. As the superuser:
    # the runtime role may not VACUUM or ANALYZE the owner's tables (it is skipped with a
    # warning: this benchmark's `VACUUM ANALYZE offers_transaction; ANALYZE` did nothing).
    if "BENCH_DATABASE_URL" not in os.environ:
        from infra.database import superuser_connection

        with superuser_connection(database=DATABASE) as conn:
            conn.execute(f"VACUUM (ANALYZE) {', '.join(PER_CUSTOMER_TABLES)}, offers_product")

    lookback = max(rule.lookback_days for rule in RULES)
    scan = gate.scan_sql(
        purposes=sorted({p for rule in RULES for p in rule.purposes}),
        as_of=as_of,
        at=timezone.now(),
        lookback_days=lookback,
    )

    def run_scan() -> tuple[float, float | None]:
        t, cpu0 = time.perf_counter(), (server_cpu_s(), own_cpu_s())
        with connection.cursor() as cursor:
            cursor.execute(str(scan), scan.params)
            cursor.fetchall()
        return time.perf_counter() - t, cpu_used(*cpu0)

    log(f"the engine's window: {lookback} days before {as_of}")
    log(f"warm-up scan: {run_scan()[0]:.2f} s")
    log("engine: manage.py generate_offers in its own process")
    wall, cpu0 = time.perf_counter(), (server_cpu_s(), own_cpu_s(resource.RUSAGE_CHILDREN))
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "generate_offers", "--as-of", as_of.isoformat()],
        check=True,
        cwd=ROOT,
        stdout=sys.stderr,
    )
    wall = time.perf_counter() - wall
    engine_cpu_s = cpu_used(*cpu0, who=resource.RUSAGE_CHILDREN)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    run = OfferRun.objects.order_by("-pk").first()
    engine_s = (run.finished_at - run.started_at).total_seconds()
    log(f"engine process wall time incl. Django start-up: {wall:.2f} s")
    if args.engine_only:
        from bench.workers import measure_inline

        # Best of two, as at full scale (engine_s and the run in one process after it).
        again_s, again_cpu_s = inline_with_cpu(measure_inline, as_of + dt.timedelta(days=1))
        for name, value in (
            ("transactions", transactions_n),
            ("customers", customers_n),
            ("engine_s", f"{engine_s:.3f}"),
            ("engine_best_s", f"{min(engine_s, again_s):.3f}"),
            ("engine_cpu_s", engine_cpu_s),
            ("engine_best_cpu_s", least(engine_cpu_s, again_cpu_s)),
        ):
            print(figure_line(name, value), flush=True)
        return
    sizes = table_sizes(customers=customers_n, transactions=transactions_n)
    scan_s, scan_cpu_s = min(run_scan(), run_scan())

    # The same run as tasks on two offers_worker processes (README, Runs and workers), against
    # a run in one process timed the same way, each on a fresh as-of date of its own.
    from bench.workers import measure_inline, measure_two_workers

    inline_s, inline_cpu_s = inline_with_cpu(measure_inline, as_of + dt.timedelta(days=1))
    engine_2workers_s = round(measure_two_workers(as_of=as_of + dt.timedelta(days=2)), 2)

    sample = random.Random(5).sample(
        list(by_number.values()), max(1, int(customers_n * args.sample))
    )
    t0 = time.perf_counter()
    fired = naive_offers(customers=sample, as_of=as_of)
    naive_s = (time.perf_counter() - t0) * customers_n / len(sample)
    log(f"naive: {len(sample)} customers, {fired} offers, scaled to {naive_s:.1f} s")

    figures = {
        "import_rows_per_s": round(transactions_n / import_s),
        "import_s": round(import_s, 2),
        "import_cpu_s": import_cpu_s,
        "engine_s": round(engine_s, 2),
        "engine_cpu_s": engine_cpu_s,
        "scan_s": round(scan_s, 2),
        "scan_cpu_s": scan_cpu_s,
        "engine_vs_scan": round(engine_s / scan_s, 2),
        "engine_peak_rss_mb": round(peak_mb),
        "customers_per_s": round(customers_n / engine_s),
        "engine_2workers_s": engine_2workers_s,
        "workers_speedup": round(inline_s / engine_2workers_s, 2),
        "naive_vs_engine": round(naive_s / engine_s),
        **sizes,
    }
    # How the engine's time grows with the data: the smaller scales and this one.
    scaling = [*points, {"scale": args.scale, "transactions": transactions_n,
                         "engine_s": engine_s, "engine_best_s": min(engine_s, inline_s),
                         "engine_cpu_s": engine_cpu_s,
                         "engine_best_cpu_s": least(engine_cpu_s, inline_cpu_s)}]  # fmt: skip
    if len(scaling) >= 2:
        sizes_n = [point["transactions"] for point in scaling]
        figures["engine_scaling_exponent"] = round(
            loglog_slope(sizes_n, [point["engine_best_s"] for point in scaling]), 3
        )
        if all(point["engine_best_cpu_s"] for point in scaling):
            figures["engine_cpu_scaling_exponent"] = round(
                loglog_slope(sizes_n, [point["engine_best_cpu_s"] for point in scaling]), 3
            )
        for point in scaling:
            log(
                f"scaling point: {point['transactions']:,} transactions, engine"
                f" {point['engine_s']:.2f} s (best of two {point['engine_best_s']:.2f} s),"
                f" CPU {point['engine_cpu_s']} s (best of two {point['engine_best_cpu_s']} s)"
            )
    for name, value in figures.items():
        print(figure_line(name, value, target=TARGETS.get(name, "")))
    context["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"bench load_average_end {' '.join(map(str, context['load_average_end']))}")
    record = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
        "scale": args.scale,
        "customers": customers_n,
        "transactions": transactions_n,
        "months": len(months),
        **context,
        **figures,
        "scaling_points": scaling,
        "total_s": round(time.monotonic() - started),
    }
    RESULTS.mkdir(exist_ok=True)
    results = RESULTS / f"{dt.date.today().isoformat()}.jsonl"
    with open(results, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    print(f"bench results {results.relative_to(ROOT)}")
    log(f"total {record['total_s']} s")


if __name__ == "__main__":
    main()
