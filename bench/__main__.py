"""Run with `make bench` (or `python -m bench [--scale 0.1]`).

In a database of its own (`consent_bench`, dropped and made again each time, so dev data
is never touched): 100,000 customers with accounts, holdings and consents (about a third
per offers purpose), and 10,000,000 transactions loaded through `import_transactions`.
Then, in one run, it measures and prints one line per figure (DESIGN §12):

    bench import_rows_per_s N    transactions per second through import_transactions
    bench engine_s N             a whole generate_offers run (its OfferRun, start to end)
    bench scan_s N               one bare consent-joined GROUP BY over the same window
    bench engine_vs_scan N       engine_s / scan_s (target ≤ 1.5)
    bench engine_peak_rss_mb N   peak memory of the generate_offers process (target < 500)
    bench naive_vs_engine N      per-customer ORM loop on a 1% sample, scaled, / engine_s
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
DATABASE = "consent_bench"
MCC_FILE = ROOT / "offers" / "data" / "mcc_codes.csv"  # public domain; see its README


def log(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def setup_database() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    if "BENCH_DATABASE_URL" in os.environ:
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        os.environ["DATABASE_OWNER_URL"] = os.environ["BENCH_DATABASE_OWNER_URL"]
    else:
        sys.path.insert(0, str(ROOT))
        from config.database import (
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


def load_mccs() -> tuple[str, ...]:
    """Every merchant category code of ISO 18245, from the file in the repository."""
    import csv

    with open(MCC_FILE, encoding="utf-8") as handle:
        return tuple(row["mcc"] for row in csv.DictReader(handle) if row["mcc"].isdigit())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k customers, 10M rows")
    parser.add_argument("--sample", type=float, default=0.01, help="share of customers, naive")
    args = parser.parse_args()
    customers_n = int(100_000 * args.scale)
    transactions_n = int(10_000_000 * args.scale)
    started = time.monotonic()
    setup_database()

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.consents import grant_in_bulk
    from bench.naive import naive_offers
    from consent.imports import CustomerImport
    from consent.models import Customer
    from offers import gate, synthetic
    from offers.imports import AccountImport, HoldingImport
    from offers.models import OfferRun
    from offers.rules import RULES

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
        synthetic.consent_choices(customer_numbers=numbers, seed=4),
        customers_by_number=by_number,
        now=now,
    )
    log(f"consents granted: {granted:,}")

    log(f"generating {transactions_n:,} transactions")
    path = synthetic.write_transactions_csv(
        DATA / "transactions.csv",
        ibans=[row[0] for row in accounts if row[2] == "checking"],
        count=transactions_n,
        as_of=as_of,
        mccs=load_mccs(),
    )
    log(f"importing {path.stat().st_size / 1e9:.2f} GB through import_transactions")
    t0 = time.perf_counter()
    call_command("import_transactions", str(path), stdout=sys.stderr)
    import_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        # What a nightly load does next anyway; engine and floor read the same table.
        cursor.execute("VACUUM ANALYZE offers_transaction")
        cursor.execute("ANALYZE")

    scan = gate.scan_sql(
        purposes=sorted({p for rule in RULES for p in rule.purposes}),
        as_of=as_of,
        at=timezone.now(),
        lookback_days=max(rule.lookback_days for rule in RULES),
    )

    def run_scan() -> float:
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(str(scan), scan.params)
            cursor.fetchall()
        return time.perf_counter() - t

    log(f"warm-up scan: {run_scan():.2f} s")
    log("engine: manage.py generate_offers in its own process")
    wall = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "generate_offers", "--as-of", as_of.isoformat()],
        check=True,
        cwd=ROOT,
        stdout=sys.stderr,
    )
    wall = time.perf_counter() - wall
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    run = OfferRun.objects.order_by("-pk").first()
    engine_s = (run.finished_at - run.started_at).total_seconds()
    log(f"engine process wall time incl. Django start-up: {wall:.2f} s")
    scan_s = min(run_scan(), run_scan())

    sample = random.Random(5).sample(
        list(by_number.values()), max(1, int(customers_n * args.sample))
    )
    t0 = time.perf_counter()
    fired = naive_offers(customers=sample, as_of=as_of)
    naive_s = (time.perf_counter() - t0) * customers_n / len(sample)
    log(f"naive: {len(sample)} customers, {fired} offers, scaled to {naive_s:.1f} s")

    print(f"bench import_rows_per_s {transactions_n / import_s:.0f}")
    print(f"bench engine_s {engine_s:.2f}")
    print(f"bench scan_s {scan_s:.2f}")
    print(f"bench engine_vs_scan {engine_s / scan_s:.2f}")
    print(f"bench engine_peak_rss_mb {peak_mb:.0f}")
    print(f"bench naive_vs_engine {naive_s / engine_s:.0f}")
    log(f"total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
