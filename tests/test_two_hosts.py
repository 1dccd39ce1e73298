"""Two web hosts and a worker host on one PostgreSQL (README, *Several machines*).

Two gunicorn servers with the production settings, each a host of its own (its own
processes, its own memory), and an `offers_worker`, all on the test database as the
runtime role. The browsers and clients below go to either host, as a load balancer would
send them: what one host starts (a session, an OAuth authorization, a rate-limit count, a
run of the engine) the other carries on, and the ledger and the feed are one.
"""

import os
import re
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauthlib.oauth2 import WebApplicationClient

from api.models import ConsentChange
from infra.database import SHARED_CACHE_TABLE
from ledger.models import ConsentEvent
from offers.models import OfferRun
from tests.api.conftest import (
    APP_REDIRECT,
    FEED,
    issue_token,
    register_app,
    register_system,
)
from tests.factories import CustomerFactory, UserFactory
from tests.offers.test_workers import database_url
from tests.pages import form_fields, hidden_fields
from tests.processes import stop_all
from tests.proof import checkpoint_and_verify
from tests.test_faults import free_port

pytestmark = [pytest.mark.slow, pytest.mark.real_clock]

PASSWORD = "two-hosts-test-password"
PURPOSES = ("offers_spending", "offers_income", "offers_balance")
WAIT_SECONDS = 60  # a bound for what never comes (a failure), not a measurement
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def production_env(**extra) -> dict[str, str]:
    """What every host of the bank gets: the production settings, the runtime role's
    database URL, and the same secret key and ledger keys (those of this test process,
    which verifies the ledger)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": "two-hosts-test-secret-" + "s" * 40,
        "LEDGER_HMAC_KEY": settings.LEDGER_HMAC_KEY,
        "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY,
        # Plain HTTP on loopback: TLS belongs to the proxy in front (bin/serve does the same).
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
        **extra,
    }
    for name in ("DATABASE_OWNER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)  # hosts never get the owner's credentials
    return env


class Hosts:
    """The two web hosts' addresses (`a`, `b`), and every process's log."""

    def __init__(self, urls, logs):
        self.urls, self.logs = urls, logs

    @property
    def a(self):
        return self.urls[0]

    @property
    def b(self):
        return self.urls[1]

    def output(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}" for path in self.logs)


@pytest.fixture(scope="module")
def hosts(django_db_setup, tmp_path_factory):
    """Host A and host B (gunicorn, production settings) and a worker host, up for the
    module; the static files collected once, as a deploy does before starting them."""
    folder = tmp_path_factory.mktemp("hosts")
    env = production_env(OFFERS_RUN_SUPERVISE_SECONDS="1", DB_POOL_SIZE="4")
    processes, logs, urls = [], [], []

    def start(name, command, **extra):
        logs.append(folder / f"{name}.log")
        with logs[-1].open("w") as log:
            process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
                env={**env, **extra},
            )  # fmt: skip
        processes.append(process)

    started = Hosts(urls, logs)
    try:
        # The worker first: it boots while the static files are collected.
        start("worker", [sys.executable, "manage.py", "offers_worker", "--interval", "0.2",
                         "--no-startup-delay", "--no-reload"])  # fmt: skip
        collected = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert collected.returncode == 0, collected.stderr
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        for name in ("host-a", "host-b"):
            port = free_port()
            urls.append(f"http://127.0.0.1:{port}")
            start(
                name,
                [gunicorn, "-c", "config/gunicorn.py", "config.wsgi"],
                BIND=f"127.0.0.1:{port}", WEB_WORKERS="1", WEB_THREADS="4",
            )  # fmt: skip
        for url in urls:
            wait_for(lambda url=url: healthy(url), f"{url}/healthz", started)
        yield started
    finally:
        stop_all(processes)


def healthy(url) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def wait_for(condition, what, hosts):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"gave up waiting for {what}\n{hosts.output()}")


@pytest.fixture
def on_two_hosts(hosts, transactional_db):
    """The hosts, for a test with its own rows; no rate-limit count left from another."""
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{SHARED_CACHE_TABLE}"')
    return hosts


class Browser:
    """One browser: its cookies go to either host (a cookie is for the address, whatever
    the port, as for the bank's one name behind the load balancer). They are Secure, and
    kept by hand to be sent over the test's plain HTTP, as the proxy's TLS would carry them."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, method, url, **kwargs):
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = requests.request(
            method, url, headers={"Cookie": cookie}, allow_redirects=False, timeout=30, **kwargs
        )
        self.cookies.update({c.name: c.value for c in response.cookies})
        return response

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, data, **kwargs):
        return self.request("POST", url, data=data, **kwargs)

    def log_in(self, host, number, password=PASSWORD, *, path="/accounts/login/"):
        token = csrf_token(self.get(host + path).text)
        answer = self.post(
            host + path, {"csrfmiddlewaretoken": token, "username": number, "password": password}
        )
        assert answer.status_code == 302, answer.text

    def choose(self, host, purpose, choice, *, page_from=None):
        """The dashboard's form for `purpose`, read on `page_from` (default: `host`), sent
        to `host` as the browser would without JavaScript."""
        page = self.get((page_from or host) + "/").text
        fields = form_fields(page, f"/choices/{purpose}/", choice=choice)
        fields["csrfmiddlewaretoken"] = csrf_token(page)
        return self.post(f"{host}/choices/{purpose}/", fields)


def csrf_token(html) -> str:
    return CSRF_FIELD.search(html).group(1)


def customer_with_password(number, **fields):
    customer = CustomerFactory(customer_number=number, **fields)
    # The hosts run the production settings, whose hashers are the real ones.
    customer.user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    customer.user.save()
    return customer


def recorded(customer) -> list[tuple[str, str]]:
    events = ConsentEvent.objects.filter(customer=customer).order_by("sequence")
    return [(event.purpose_version.purpose.code, event.action) for event in events]


# --- Sessions --------------------------------------------------------------------------------
def test_a_session_made_on_one_host_works_on_the_other(on_two_hosts):
    hosts = on_two_hosts
    sanne = customer_with_password("610001")
    browser = Browser()
    browser.log_in(hosts.a, "610001")

    dashboard = browser.get(hosts.b + "/")
    assert dashboard.status_code == 200  # not sent to the login page
    assert 'id="switch-offers_spending"' in dashboard.text
    # The form and its CSRF token from host A, the choice saved by host B.
    saved = browser.choose(hosts.b, "offers_spending", "grant", page_from=hosts.a)
    assert saved.status_code == 302, saved.text
    assert recorded(sanne) == [("offers_spending", "granted")]
    assert 'aria-checked="true"' in browser.get(hosts.a + "/").text


# --- The ledger ------------------------------------------------------------------------------
def test_choices_made_on_both_hosts_are_all_in_the_ledger_and_it_verifies(on_two_hosts):
    hosts = on_two_hosts
    numbers = ("620001", "620002", "620003")
    customers = [customer_with_password(number) for number in numbers]
    browsers = {number: Browser() for number in numbers}
    for i, number in enumerate(numbers):
        browsers[number].log_in((hosts.a, hosts.b)[i % 2], number)
    made = {number: [] for number in numbers}
    for round_ in range(4):
        for i, number in enumerate(numbers):
            host = (hosts.a, hosts.b)[(round_ + i) % 2]
            # Each a change: on, on, off, off, of two purposes.
            purpose = PURPOSES[(round_ + i) % 2]
            choice = "grant" if round_ < 2 else "withdraw"
            answer = browsers[number].choose(host, purpose, choice)
            assert answer.status_code == 302, answer.text
            made[number].append((purpose, "granted" if choice == "grant" else "withdrawn"))

    for customer, number in zip(customers, numbers, strict=True):
        assert recorded(customer) == made[number]
    assert "ledger ok" in checkpoint_and_verify()


# --- Rate limits -----------------------------------------------------------------------------
def test_an_api_rate_limit_counts_the_requests_to_both_hosts(on_two_hosts):
    """The app's choices for one customer, 30 a minute (REST_FRAMEWORK's `choose`), sent
    to host A and host B in turn: the 31st is refused, wherever it goes."""
    hosts = on_two_hosts
    customer = customer_with_password("630001")
    token = issue_token(register_app(), user=customer.user, scope="consent:read consent:choose")
    headers = {"Authorization": f"Bearer {token}"}
    card = requests.get(
        f"{hosts.a}/api/v1/me/purposes/offers_spending", headers=headers, timeout=30
    ).json()
    grant = {"choice": "grant", "version": card["version"], "notice_sha256": card["notice_sha256"]}
    limit = 30
    for n in range(1, limit + 1):
        host = (hosts.a, hosts.b)[n % 2]
        body = grant if n % 2 else {"choice": "withdraw"}
        answer = requests.post(
            f"{host}/api/v1/me/purposes/offers_spending/choice",
            json=body, headers=headers, timeout=30,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        # Each host counts what the other counted.
        assert re.match(rf'"choose";r={limit - n};t=\d+$', answer.headers["RateLimit"])
    for host in (hosts.a, hosts.b):
        refused = requests.post(
            f"{host}/api/v1/me/purposes/offers_spending/choice",
            json={"choice": "withdraw"}, headers=headers, timeout=30,
        )  # fmt: skip
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) > 0
    assert len(recorded(customer)) == limit


# --- OAuth -----------------------------------------------------------------------------------
def test_an_authorization_started_on_one_host_completes_on_the_other(on_two_hosts, monkeypatch):
    """The bank's app (authorization code with PKCE): the customer logs in and sees the
    consent screen on host A, allows on host B; the code is exchanged on host A, the token
    used on host B, and refreshed on host A."""
    hosts = on_two_hosts
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the app's oauthlib, on loopback
    customer = customer_with_password("640001")
    application = register_app()
    oauth = WebApplicationClient(application.client_id)
    verifier = oauth.create_code_verifier(64)
    url = oauth.prepare_request_uri(
        f"{hosts.a}/api/v1/oauth/authorize/",
        redirect_uri=APP_REDIRECT,
        scope="consent:read consent:choose",
        state="s-640001",
        code_challenge=oauth.create_code_challenge(verifier, "S256"),
        code_challenge_method="S256",
    )
    authorize = url.removeprefix(hosts.a)  # the same address on either host
    browser = Browser()

    to_login = browser.get(hosts.a + authorize)
    assert to_login.status_code == 302 and "/accounts/login/" in to_login.headers["Location"]
    browser.log_in(hosts.a, "640001")
    screen = browser.get(hosts.a + authorize)
    assert screen.status_code == 200 and "toegang geven" in screen.text.lower(), screen.text
    form = hidden_fields(screen.text)
    form["allow"] = "Authorize"
    allowed = browser.post(hosts.b + authorize, form)
    assert allowed.status_code == 302, allowed.text
    back = parse_qs(urlsplit(allowed.headers["Location"]).query)
    assert back["state"] == ["s-640001"] and back["code"], back

    exchanged = requests.post(
        f"{hosts.a}/api/v1/oauth/token/",
        data=oauth.prepare_request_body(
            code=back["code"][0], redirect_uri=APP_REDIRECT, code_verifier=verifier,
            include_client_id=True,
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )  # fmt: skip
    assert exchanged.status_code == 200, exchanged.text
    tokens = exchanged.json()
    cards = requests.get(
        f"{hosts.b}/api/v1/me/purposes",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=30,
    )
    assert cards.status_code == 200, cards.text
    assert {card["code"] for card in cards.json()["purposes"]} >= set(PURPOSES)
    refreshed = requests.post(
        f"{hosts.a}/api/v1/oauth/token/",
        data=oauth.prepare_refresh_body(
            refresh_token=tokens["refresh_token"], client_id=application.client_id
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert refreshed.status_code == 200, refreshed.text
    withdrawn = requests.post(
        f"{hosts.b}/api/v1/me/purposes/offers_spending/choice",
        json={"choice": "withdraw"},
        headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
        timeout=30,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["unchanged"] is True  # it was never on: nothing to write
    assert recorded(customer) == []


# --- The feed --------------------------------------------------------------------------------
def test_the_feed_stays_in_order_with_choices_from_both_hosts(on_two_hosts):
    """A system follows the feed, from host A and host B in turn, while customers choose
    on both: every change once, in increasing order, none missing."""
    hosts = on_two_hosts
    numbers = ("650001", "650002", "650003")
    browsers = {}
    for number in numbers:
        customer_with_password(number)
        browsers[number] = Browser()
        browsers[number].log_in(hosts.a, number)
    headers = {"Authorization": f"Bearer {issue_token(register_system(), scope=FEED)}"}
    failures = []

    def choose_on_both_hosts():
        try:
            for round_ in range(4):
                for i, number in enumerate(numbers):
                    host = (hosts.a, hosts.b)[(round_ + i) % 2]
                    choice = "grant" if round_ % 2 == 0 else "withdraw"
                    answer = browsers[number].choose(host, PURPOSES[i], choice)
                    if answer.status_code != 302:
                        failures.append(answer.text)
        except Exception as exc:  # reported by the test, not lost in the thread
            failures.append(repr(exc))

    choosing = threading.Thread(target=choose_on_both_hosts)
    choosing.start()
    seen, cursor, pages = [], 0, 0
    while True:
        done = not choosing.is_alive()  # before the read: a last read after the last choice
        page = requests.get(
            f"{(hosts.a, hosts.b)[pages % 2]}/api/v1/consent-changes",
            params={"after": cursor, "limit": 3}, headers=headers, timeout=30,
        )  # fmt: skip
        assert page.status_code == 200, page.text
        pages += 1
        changes = page.json()["changes"]
        seen += [change["id"] for change in changes]
        cursor = changes[-1]["id"] if changes else cursor
        if done and not page.json()["has_more"]:
            break
    choosing.join()

    assert not failures, failures
    assert seen == sorted(set(seen)), "a change twice, or out of order"
    assert seen == list(ConsentChange.objects.order_by("id").values_list("id", flat=True))
    assert len(seen) == 4 * len(numbers)


# --- Workers ---------------------------------------------------------------------------------
def test_the_worker_does_the_run_a_host_queued(on_two_hosts):
    """Staff log in (password and TOTP code) on host A and start a run of the engine on
    host B; the worker host does its chunks."""
    hosts = on_two_hosts
    for number in ("660001", "660002"):
        customer_with_password(number)
    karin = UserFactory(username="karin", is_staff=True)
    karin.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    karin.save()
    karin.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="offers", codename__in=["start_offerrun", "view_offerrun"]
        )
    )
    device = TOTPDevice.objects.create(user=karin, name="phone", confirmed=True)
    staff = Browser()
    staff.log_in(hosts.a, "karin", path="/admin/login/")
    page = staff.get(hosts.a + "/admin/otp/").text
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    verified = staff.post(
        hosts.a + "/admin/otp/", {"csrfmiddlewaretoken": csrf_token(page), "token": f"{code:06d}"}
    )
    assert verified.status_code == 302, verified.text

    start = "/admin/offers/offerrun/start/"
    form = staff.get(hosts.b + start)
    assert form.status_code == 200, form.text
    today = timezone.localdate(timezone.now())
    queued = staff.post(
        hosts.b + start, {"csrfmiddlewaretoken": csrf_token(form.text), "as_of": today.isoformat()}
    )
    assert queued.status_code == 302, queued.text

    run = OfferRun.objects.get()
    assert run.started_by == karin

    def finished():
        run.refresh_from_db()
        return run.status == "finished"

    wait_for(finished, f"run {run.pk} to finish", hosts)
    chunks = list(run.chunks.all())
    assert chunks and all(chunk.worker for chunk in chunks)
