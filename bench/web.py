"""`make bench-web`: the dashboard under 50 concurrent customers (README, Benchmarks).

1. A separate database on the same PostgreSQL (`consent_webbench`, recreated each run) gets
   100,000 customers through the real `import_customers` COPY path, a consent history for
   a third of them, and known passwords for the simulated customers.
2. `bin/serve` (production settings under gunicorn) serves it on loopback.
3. A separate process drives it: first /healthz alone (the floor), then 50 customers who
   log in and keep opening the dashboard, making a choice, sometimes opening history or
   exporting, then reading for a while (`--think`, uniform around a mean of 3 s) before
   the next visit, as a person does. The floor clients ask /healthz at about the same rate.
4. Then the saturation search: the same customers read ever shorter (`SATURATION_THINK`,
   `--saturation-seconds` per step) until the throughput stops growing or the p99 explodes
   (above 1 s); `requests_per_s_at_saturation` is the highest rate reached, with its p99.
5. Every choice the server acknowledged is looked up in the ledger afterwards.

Prints `bench <name> <value>` lines; never part of `make test`.
"""

import argparse
import asyncio
import csv
import datetime as dt
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "consent_webbench"
PURPOSES = ("offers_spending", "offers_income", "offers_balance")
CHOICES = ("grant", "withdraw")  # what a card's form sends
PASSWORD = "bench-password-2026"
VISIT_REQUESTS = ("dashboard", "choice", "history", "export")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# What a card's choice form sends besides the choice: the version and hash of its text.
CARD_FORM = re.compile(
    r'action="/choices/(\w+)/".*?name="version" value="(\d+)".*?'
    r'name="notice_sha256" value="([0-9a-f]{64})"',
    re.DOTALL,
)


def database_urls() -> tuple[str, str]:
    """The benchmark database as (runtime role, owner role) URLs."""
    if base := os.environ.get("DATABASE_URL"):
        owner = os.environ["DATABASE_OWNER_URL"]
        return tuple(url.rsplit("/", 1)[0] + "/" + DATABASE for url in (base, owner))
    from infra.database import OWNER_ROLE, RUNTIME_ROLE, embedded_url

    return embedded_url(RUNTIME_ROLE, DATABASE), embedded_url(OWNER_ROLE, DATABASE)


def manage(*args, env):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare(*, customers: int, clients: int, env) -> None:
    """A fresh database with `customers` customers; the first `clients` can log in."""
    import psycopg

    if "DATABASE_URL" in os.environ:
        admin_url = env["DATABASE_OWNER_URL"].replace(f"/{DATABASE}", "/postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DATABASE}")
    else:
        from infra.database import recreate_embedded_database

        recreate_embedded_database(DATABASE)
    manage("migrate", "--no-input", "-v", "0", env=env)
    # Seeding writes ledger events, which need the chain key: a fresh clone has none yet
    # (bin/serve would make it, but only later).
    subprocess.run([str(ROOT / "bin" / "ensure-keys")], cwd=ROOT, env=env, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["customer_number", "first_name", "last_name", "email", "birth_date", "language"]
            )
            for n in range(customers):
                writer.writerow(
                    [
                        f"{700000 + n}",
                        "Klant",
                        f"Nummer {n}",
                        f"k{n}@example.nl",
                        f"{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                        "nl" if n % 4 else "en",
                    ]
                )
        manage("import_customers", str(path), env=env)
    manage("shell", "-c", f"from bench.web import seed; seed(clients={clients})", env=env)


def seed(*, clients: int) -> None:
    """Inside Django: passwords for the simulated customers, a history for a third of all."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db.models.functions import Mod
    from django.utils import timezone

    from banking.synthetic import PlannedChoice, Step
    from bench.consents import current_texts_from, grant_in_bulk
    from consent.models import Customer

    numbers = [f"{700000 + n}" for n in range(clients)]
    get_user_model().objects.filter(username__in=numbers).update(password=make_password(PASSWORD))
    # A history for every third customer, written in bulk with the same hash chain
    # record_choice writes (the simulated customers then add theirs through the web).
    customers = {
        c.customer_number: c for c in Customer.objects.alias(third=Mod("id", 3)).filter(third=0)
    }
    now, texts_from = timezone.now(), current_texts_from()
    grant_in_bulk(
        [
            # Never before the text it grants on was published.
            PlannedChoice(
                number, Step.GRANT, max(now - dt.timedelta(days=days), texts_from[code]), code
            )
            for number in customers
            for days, code in ((200, "offers_spending"), (100, "offers_balance"))
        ],
        customers_by_number=customers,
    )
    print(f"seeded {clients} logins", flush=True)


class SimulatedCustomer:
    """One simulated customer: a session, and every choice the server acknowledged."""

    def __init__(self, http, base, number):
        self.http, self.base, self.number = http, base, number
        self.cookies: dict[str, str] = {}
        self.acknowledged: list[tuple[str, str]] = []
        self.forms: dict[str, dict[str, str]] = {}
        self.logins = 0
        self.statuses: dict[int, int] = {}

    def _remember(self, response):
        for morsel in response.cookies.values():
            self.cookies[morsel.key] = morsel.value

    async def request(self, method, path, **kwargs):
        headers = kwargs.pop("headers", {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        async with self.http.request(
            method, self.base + path, headers=headers, allow_redirects=False, **kwargs
        ) as response:
            body = await response.text()
            self._remember(response)
            self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
            return response.status, body

    async def log_in(self):
        self.logins += 1
        status, page = await self.request("GET", "/accounts/login/")
        token = CSRF_INPUT.search(page).group(1)
        status, _ = await self.request(
            "POST",
            "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": self.number, "password": PASSWORD},
        )
        if status != 302:
            raise RuntimeError(f"login failed for {self.number}: {status}")

    async def dashboard(self):
        """Open the dashboard, and remember what its forms would send, as a browser does."""
        status, page = await self.request("GET", "/")
        for purpose, version, notice_sha256 in CARD_FORM.findall(page):
            self.forms[purpose] = {"version": version, "notice_sha256": notice_sha256}
        return status

    async def choose(self, purpose, choice):
        status, _ = await self.request(
            "POST",
            f"/choices/{purpose}/",
            data={**self.forms.get(purpose, {}), "choice": choice},
            headers={"X-CSRFToken": self.cookies["csrftoken"], "HX-Request": "true"},
        )
        if status in (200, 302):
            self.acknowledged.append((purpose, "granted" if choice == "grant" else "withdrawn"))
        return status


async def timed(samples, name, coroutine):
    started = time.perf_counter()
    result = await coroutine
    samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    return result


async def visits(people, samples, *, seconds, think, ramp=True, seed=""):
    """Every simulated customer visits until `seconds` have passed: the dashboard, a choice,
    sometimes the history or the export, then reads for a while (uniform around `think`).
    Returns the requests per second achieved."""
    started = time.perf_counter()
    deadline = started + seconds

    async def customer_loop(person):
        rng = random.Random(person.number + seed)
        if ramp:
            # Customers arrive over the first think time, not all in the same millisecond
            # (a ramp-up, like locust's spawn rate).
            await asyncio.sleep(rng.uniform(0, think))
        while time.perf_counter() < deadline:
            await timed(samples, "dashboard", person.dashboard())
            purpose = rng.choice(PURPOSES)
            await timed(samples, "choice", person.choose(purpose, rng.choice(CHOICES)))
            if rng.random() < 0.3:
                await timed(samples, "history", person.request("GET", "/history/"))
            if rng.random() < 0.1:
                await timed(samples, "export", person.request("GET", "/export.json"))
            # A person reads before the next click (uniform, mean `think` seconds).
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    await asyncio.gather(*(customer_loop(person) for person in people))
    elapsed = time.perf_counter() - started
    return sum(len(samples.get(name, ())) for name in VISIT_REQUESTS) / elapsed


# The saturation steps: the same customers reading ever shorter, down to not at all.
SATURATION_THINK = (1.0, 0.5, 0.25, 0.12, 0.06, 0.0)
# Past this p99 (any request) latency has exploded: the server is beyond saturation.
SATURATION_P99_MS = 1000.0


async def saturation(people, *, step_seconds):
    """The request rate at which the server saturates: raise the offered load (shorter and
    shorter reading times) until the throughput stops growing (less than 5% more than the
    step before) or the p99 explodes. Returns (the highest rate reached, its p99)."""
    best = (0.0, 0.0)
    for think in SATURATION_THINK:
        samples: dict[str, list[float]] = {}
        rate = await visits(
            people, samples, seconds=step_seconds, think=think, ramp=False, seed=f"-{think}"
        )
        p99 = percentile([ms for name in VISIT_REQUESTS for ms in samples.get(name, ())], 0.99)
        print(
            f"saturation step: think {think:.2f} s, {rate:.1f} requests/s, p99 {p99:.0f} ms",
            file=sys.stderr,
            flush=True,
        )
        grew = rate > best[0] * 1.05
        if rate > best[0]:
            best = (rate, p99)
        if not grew or p99 > SATURATION_P99_MS:
            break
    return best


async def drive(base, *, clients, seconds, floor_seconds, think, saturation_seconds):
    import aiohttp

    # A fresh connection per request: a pooled one that the server closed while the
    # customer was reading (gunicorn's keep-alive is 5 s) would fail the next request.
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        samples: dict[str, list[float]] = {}

        # The floor: the smallest view (/healthz, one SELECT 1) under the same load pattern.
        deadline = time.perf_counter() + floor_seconds
        await asyncio.gather(
            *(floor_loop(http, base, samples, deadline, think, n) for n in range(clients))
        )

        people = [SimulatedCustomer(http, base, f"{700000 + n}") for n in range(clients)]
        for person in people:  # logging in is set-up, not measured
            await person.log_in()
        logins = sum(person.logins for person in people)

        rate = await visits(people, samples, seconds=seconds, think=think)
        # Sessions last 15 idle minutes: nobody logs in again while measured (a choice
        # answered with the login page would also count as lost below).
        if sum(person.logins for person in people) != logins:
            raise RuntimeError("a simulated customer logged in again while measured")
        saturated = None
        if saturation_seconds:
            saturated = await saturation(people, step_seconds=saturation_seconds)
        return samples, rate, people, saturated


async def floor_loop(http, base, samples, deadline, think, n):
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, think))
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        async with http.get(base + "/healthz") as response:
            await response.read()
        samples.setdefault("healthz", []).append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think) / 2)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def lost_choices(people, env) -> int:
    """Acknowledged choices that are not in the ledger, per customer and in order.

    Only choices that changed something must be there: a choice the state already had
    (a second "grant", a "withdraw" of what was never granted) is answered and writes
    nothing (`RecordedChoice.unchanged`). The state before the benchmark is what the
    seeded events say."""
    import psycopg

    lost = 0
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        for person in people:
            seeded = conn.execute(
                """
                SELECT p.code, e.action FROM consent_consentevent e
                  JOIN consent_customer c ON c.id = e.customer_id
                  JOIN consent_purpose p ON p.id = e.purpose_id
                 WHERE c.customer_number = %s AND e.channel <> 'web'
                 ORDER BY e.sequence
                """,
                [person.number],
            ).fetchall()
            state = dict(seeded)
            changing = []
            for purpose, action in person.acknowledged:
                if state.get(purpose, "withdrawn") != action:
                    changing.append((purpose, action))
                state[purpose] = action
            rows = conn.execute(
                """
                SELECT p.code, e.action FROM consent_consentevent e
                  JOIN consent_customer c ON c.id = e.customer_id
                  JOIN consent_purpose p ON p.id = e.purpose_id
                 WHERE c.customer_number = %s AND e.channel = 'web'
                 ORDER BY e.sequence
                """,
                [person.number],
            ).fetchall()
            recorded = [tuple(row) for row in rows]
            # Every acknowledged choice must appear, in the order it was acknowledged.
            position = 0
            for choice in changing:
                while position < len(recorded) and recorded[position] != choice:
                    position += 1
                if position == len(recorded):
                    lost += 1
                else:
                    position += 1
    return lost


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--floor-seconds", type=int, default=15)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--think",
        type=float,
        default=3.0,
        help="mean seconds a simulated customer waits between actions (0: flat out)",
    )
    parser.add_argument(
        "--saturation-seconds",
        type=int,
        default=10,
        help="seconds per step of the saturation search after the measurement (0: none)",
    )
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="skip preparing: the database the last run left (for quick comparisons only:"
        " its histories have grown, so history and export pages are slower)",
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    if "DATABASE_URL" not in os.environ:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
        from infra.database import embedded_server

        embedded_server()
    env["DATABASE_URL"], env["DATABASE_OWNER_URL"] = database_urls()

    if args.reuse_database:
        print("reusing the last run's database", file=sys.stderr, flush=True)
    else:
        print(f"preparing {args.customers} customers ...", file=sys.stderr, flush=True)
        prepare(customers=args.customers, clients=args.clients, env=env)

    server, base = serve(env=env, port=args.port)
    try:
        wait_for(base + "/healthz")
        samples, rate, people, saturated = asyncio.run(
            drive(
                base,
                clients=args.clients,
                seconds=args.seconds,
                floor_seconds=args.floor_seconds,
                think=args.think,
                saturation_seconds=args.saturation_seconds,
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    acknowledged = sum(len(person.acknowledged) for person in people)
    dashboard_p50 = statistics.median(samples["dashboard"])
    figures = {
        "dashboard_p50_ms": dashboard_p50,
        "dashboard_p99_ms": percentile(samples["dashboard"], 0.99),
        "choice_p99_ms": percentile(samples["choice"], 0.99),
        "history_p99_ms": percentile(samples.get("history", [0.0]), 0.99),
        "export_p99_ms": percentile(samples.get("export", [0.0]), 0.99),
        "requests_per_s": rate,
        "dashboard_vs_floor_p50": dashboard_p50 / statistics.median(samples["healthz"]),
        "choices_acknowledged": acknowledged,
        "choices_lost": lost_choices(people, env),
        # Anything but 200 (or a redirect) during the visits, saturation steps included.
        "responses_not_ok": sum(
            count
            for person in people
            for status, count in person.statuses.items()
            if status not in (200, 302)
        ),
    }
    if saturated is not None:
        figures["requests_per_s_at_saturation"] = saturated[0]
        figures["p99_ms_at_saturation"] = saturated[1]
    for name, value in figures.items():
        print(f"bench {name} {value:.1f}" if isinstance(value, float) else f"bench {name} {value}")


def serve(*, env, port):
    """`bin/serve` (production settings under gunicorn) on the bench's database, at `port`:
    the process, and its base URL."""
    serve_env = {**env, "BIND": f"127.0.0.1:{port}"}
    serve_env.pop("DJANGO_SETTINGS_MODULE")
    server = subprocess.Popen(
        [str(ROOT / "bin" / "serve")],
        cwd=ROOT,
        env=serve_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return server, f"http://127.0.0.1:{port}"


def wait_for(url, timeout=120):
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


if __name__ == "__main__":
    main()
