"""The database goes away while customers are choosing, then comes back.

Runs the real production stack (`bin/serve`: gunicorn, production settings, the psycopg
pool) against the test database on the embedded PostgreSQL, stops that server in the
middle of a stream of choices and starts it again.
"""

import http.client
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection

from infra.database import OWNER_ROLE, RUNTIME_ROLE, embedded_url
from ledger.models import ConsentEvent
from tests.factories import CustomerFactory
from tests.pages import form_fields
from tests.proof import checkpoint_and_verify

pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_clock,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="stops and starts the embedded PostgreSQL; with DATABASE_URL there is none",
    ),
]

PASSWORD = "fault-test-password"
PURPOSES = ("offers_spending", "offers_income", "offers_balance")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browserless:
    """A customer's session over real HTTP, cookies kept by hand (they are Secure)."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        headers = {
            **(headers or {}),
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if body is not None:
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.read().decode()
        finally:
            conn.close()

    def log_in(self, number):
        _, page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": number, "password": PASSWORD},
        )
        assert status == 302, f"could not log in {number}"
        # What the dashboard's forms send besides the choice: the text's version and hash.
        _, dashboard = self.request("GET", "/")
        self.forms = {
            purpose: form_fields(dashboard, f"/choices/{purpose}/") for purpose in PURPOSES
        }

    def choose(self, purpose, choice):
        return self.request(
            "POST",
            f"/choices/{purpose}/",
            {**self.forms[purpose], "choice": choice},
            {"X-CSRFToken": self.cookies["csrftoken"]},
        )


def missing_from_ledger(confirmed, recorded):
    """The confirmed choices the ledger lacks. Each is in it, in the order it was
    confirmed, unless it repeated what the ledger already said for that purpose (a choice
    refused in the outage makes the next one a repeat: confirmed, and rightly not written
    again). A choice whose COMMIT reply was lost with the server may be in the ledger
    too, though the customer was told it was not saved: that direction loses nothing."""
    missing, position, state = [], 0, {}
    for purpose, action in confirmed:
        found = next(
            (i for i in range(position, len(recorded)) if recorded[i] == (purpose, action)),
            None,
        )
        if state.get(purpose, "withdrawn") == action and (
            found is None or any(p == purpose for p, _ in recorded[position:found])
        ):
            continue  # a repeat of the state as recorded: nothing to write
        if found is None:
            missing.append((purpose, action))
            continue
        for p, a in recorded[position : found + 1]:
            state[p] = a
        position = found + 1
    return missing


def test_a_repeat_is_not_missing_but_a_lost_change_is():
    ledger = [("a", "granted"), ("b", "granted")]
    assert missing_from_ledger([("a", "granted"), ("a", "granted"), ("b", "granted")], ledger) == []
    assert missing_from_ledger([("a", "withdrawn")], ledger) == []  # never on: a repeat
    assert missing_from_ledger([("a", "granted"), ("a", "withdrawn")], ledger) == [
        ("a", "withdrawn")
    ]
    assert missing_from_ledger([("c", "granted")], ledger) == [("c", "granted")]


@pytest.fixture
def production_server(transactional_db):
    port = free_port()
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": embedded_url(RUNTIME_ROLE, db["NAME"]),
        # bin/serve migrates as the owner, then serves as the runtime role.
        "DATABASE_OWNER_URL": embedded_url(OWNER_ROLE, db["NAME"]),
        "DJANGO_SECRET_KEY": "fault-test-secret-" + "s" * 40,
        # The same chain key as this test process, which verifies the ledger afterwards.
        "LEDGER_HMAC_KEY": settings.LEDGER_HMAC_KEY,
        "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY,
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "4",
        "DB_POOL_SIZE": "4",
    }
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    server = subprocess.Popen(
        [str(settings.BASE_DIR / "bin" / "serve")],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    probe = Browserless(port)
    for _ in range(120):
        try:
            if probe.request("GET", "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("bin/serve did not come up")
    yield port
    server.terminate()
    server.wait(timeout=30)


def wait_for_health(probe, expected, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if probe.request("GET", "/healthz")[0] == expected:
                return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"/healthz never answered {expected}")


def test_choices_survive_a_database_restart_and_failures_are_reported_as_not_saved(
    production_server,
):
    from infra.database import embedded_server

    numbers = [f"81000{n}" for n in range(4)]
    for number in numbers:
        # The server runs production settings, whose hashers are the real ones.
        user = CustomerFactory(customer_number=number).user
        user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
        user.save()
    port, probe = production_server, Browserless(production_server)
    sessions = {}
    for number in numbers:
        sessions[number] = Browserless(port)
        sessions[number].log_in(number)

    acknowledged = {number: [] for number in numbers}
    refused, unexpected = [], []
    stop = threading.Event()

    def keep_choosing(number):
        session, n = sessions[number], 0
        while not stop.is_set():
            purpose, choice = PURPOSES[n % 3], ("grant", "withdraw")[n // 3 % 2]
            n += 1
            try:
                status, body = session.choose(purpose, choice)
            except OSError as exc:
                unexpected.append(("no answer", str(exc)))
                continue
            if status == 302:
                acknowledged[number].append(
                    (purpose, "granted" if choice == "grant" else "withdrawn")
                )
            elif status == 503:
                refused.append(body)
            else:
                unexpected.append((status, body[:200]))
            time.sleep(0.02)

    threads = [threading.Thread(target=keep_choosing, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    server = embedded_server()
    try:
        time.sleep(1.5)
        server.stop()
        wait_for_health(probe, 503)
        time.sleep(1.5)
    finally:
        server.start()
    wait_for_health(probe, 200)
    acknowledged_before_end = sum(map(len, acknowledged.values()))
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join()
    connection.close()  # this process's connection died with the server

    assert unexpected == []
    assert refused, "no choice was made while the database was down"
    assert all("NIET opgeslagen" in body and "Traceback" not in body for body in refused)
    assert sum(map(len, acknowledged.values())) > acknowledged_before_end, "no recovery"
    for number, choices in acknowledged.items():
        recorded = list(
            ConsentEvent.objects.filter(customer__customer_number=number)
            .order_by("sequence")
            .values_list("purpose__code", "action")
        )
        assert missing_from_ledger(choices, recorded) == [], (
            f"customer {number}: confirmed but not in the ledger"
        )
    checkpoint_and_verify()
