"""Every log line is one JSON object with the client address and the user id, and no
customer number, IBAN or e-mail address.

The production stack (`bin/serve`: gunicorn and production settings) runs against the
test database behind a pretend proxy, and its whole output is read back.
"""

import http.client
import json
import logging
import os
import re
import subprocess
import time
import urllib.parse

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.urls import URLResolver, get_resolver
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.logging import JsonFormatter
from infra.database import OWNER_ROLE, RUNTIME_ROLE, embedded_url
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.slow
CLIENT = "203.0.113.9"
PASSWORD = "logging-test-password"
IBAN = "NL91ABNA0417164300"


class Session:
    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        headers = {
            "X-Forwarded-For": f"10.9.9.9, {CLIENT}",  # the client's own claim, then the proxy's
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if body is not None:
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body.encode() if body is not None else None)
            response = conn.getresponse()
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.read().decode()
        finally:
            conn.close()

    def log_in(self, username, password, *, url="/accounts/login/"):
        return self.post_form(url, {"username": username, "password": password})

    def post_form(self, url, fields):
        """GET the page for its CSRF token, then POST the form, as a browser would."""
        _, page = self.request("GET", url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.request("POST", url, {"csrfmiddlewaretoken": token, **fields})


@pytest.fixture
def served(transactional_db, tmp_path):
    """bin/serve on a free port; yields (port, function returning the output so far)."""
    from tests.test_faults import free_port

    port = free_port()
    db = settings.DATABASES["default"]
    output = tmp_path / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": embedded_url(RUNTIME_ROLE, db["NAME"]),
        "DATABASE_OWNER_URL": embedded_url(OWNER_ROLE, db["NAME"]),
        "DJANGO_SECRET_KEY": "logging-test-secret-" + "s" * 40,
        "LEDGER_HMAC_KEY": settings.LEDGER_HMAC_KEY,
        "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY,
        "DJANGO_TRUSTED_PROXY_COUNT": "1",
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
        "DB_POOL_SIZE": "2",
    }
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    with output.open("w") as sink:
        server = subprocess.Popen(
            [str(settings.BASE_DIR / "bin" / "serve")],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        probe = Session(port)
        for _ in range(120):
            try:
                if probe.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            server.kill()
            pytest.fail("bin/serve did not come up:\n" + output.read_text())
        try:
            yield port, output
        finally:
            server.terminate()
            server.wait(timeout=30)


def gunicorn_lines(output):
    """The lines written once the app was up (migrate and collectstatic print before)."""
    lines = output.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if '"logger": "gunicorn.error"' in line)
    return lines[start:]


def test_every_log_line_is_json_with_client_and_user_and_no_customer_data(served):
    port, output = served
    customer = CustomerFactory(customer_number="100001", email="anna@example.nl")
    customer.user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    customer.user.save()
    browser = Session(port)
    # A path that breaks string-built JSON: backslash, quote, an encoded newline, braces.
    nasty = '/x\\y"z%0a{"forged":%20true}%22/' + IBAN + "/anna@example.nl"
    assert browser.request("GET", nasty)[0] == 404
    assert browser.log_in("100001", "wrong")[0] == 200  # a failed login
    status, _ = browser.log_in("100001", PASSWORD)
    assert status == 302
    assert browser.request("GET", "/")[0] == 200
    time.sleep(0.5)  # let the access log flush

    lines = gunicorn_lines(output)
    entries = [json.loads(line) for line in lines]  # every line parses on its own
    access = [e for e in entries if e["logger"] == "gunicorn.access"]
    paths = [e["path"] for e in access]
    assert '/x\\y"z\n{"forged": true}"/[iban]/[e-mail]' in paths, paths
    assert all(e["client"] == CLIENT for e in access)
    dashboard = next(e for e in access if e["path"] == "/" and e["method"] == "GET")
    assert dashboard["user_id"] == str(customer.user.pk) and dashboard["status_code"] == 200
    text = "\n".join(lines)
    for secret in ("100001", IBAN, "anna@example.nl"):
        assert secret not in text, secret


def test_the_formatter_masks_ibans_and_e_mail_addresses_in_messages():
    record = logging.LogRecord(
        "consent", logging.WARNING, __file__, 1, "mail %s about %s", ("a.b@example.nl", IBAN), None
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "mail [e-mail] about [iban]"


def with_password(user):
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()
    return user


@pytest.mark.real_clock  # the TOTP code is for the server's clock, which is the machine's
def test_staff_urls_and_request_log_lines_carry_no_customer_number(served):
    """A contact-centre employee looks a customer up, opens their page, mistypes a number
    (a 404, which Django logs) and the API is asked for a path with a number in it: the
    access log and Django's request lines name the URL pattern, never the number."""
    port, output = served
    anna = CustomerFactory(customer_number="100001", email="anna@example.nl")
    karin = with_password(UserFactory(username="karin", is_staff=True))
    karin.groups.set([Group.objects.get(name="Klantenservice")])
    device = TOTPDevice.objects.create(user=karin, name="phone", confirmed=True)
    staff = Session(port)
    assert staff.log_in("karin", PASSWORD, url="/admin/login/")[0] == 302
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    assert staff.post_form("/admin/otp/", {"token": f"{code:06d}"})[0] == 302

    assert staff.request("GET", "/admin/consent/customer/?q=100001")[0] == 302
    assert staff.request("GET", "/admin/consent/customer/100001/change/")[0] == 200
    assert staff.request("GET", "/admin/consent/customer/100001/history/")[0] == 404
    assert staff.request("GET", "/admin/consent/customer/777001/change/")[0] == 404
    assert staff.request("GET", "/admin/consent/customer/100001/no-such-page/")[0] == 302
    assert staff.request("GET", "/api/v1/purposes/100001/valid-customers")[0] == 401
    assert staff.request("GET", "/api/v1/customers/100001")[0] == 404
    assert staff.request("GET", "/no/such/page/777002")[0] == 404
    time.sleep(0.5)  # let the access log flush

    lines = gunicorn_lines(output)
    entries = [json.loads(line) for line in lines]
    paths = [e["path"] for e in entries if e["logger"] == "gunicorn.access"]
    assert "/admin/consent/customer/[object_id]/change/" in paths, paths
    assert "/api/v1/purposes/[code]/valid-customers" in paths, paths
    messages = [e["message"] for e in entries if e["logger"] == "django.request"]
    assert "Not Found: /admin/consent/customer/[object_id]/change/" in messages, messages
    text = "\n".join(lines)
    for number in (anna.customer_number, "777001", "777002", "anna@example.nl"):
        assert number not in text, number


def routes(patterns=None, prefix=""):
    """Every URL pattern's full route, as Django's ResolverMatch.route joins them."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern).removeprefix("^")
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        else:
            yield route


def test_every_url_pattern_is_logged_as_plain_words_with_its_values_named():
    """A future URL with a regex of its own still logs as words and [names]."""
    from config.logging import _route_text

    for route in routes():
        text = _route_text(route)
        assert not re.search(r"[()<>\\^$*+?|{}]", text), (route, text)


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/admin/consent/customer/100001/change/", "/admin/consent/customer/[object_id]/change/"),
        (
            "/admin/consent/customer/100001/act/grant/",
            "/admin/consent/customer/[number]/act/[action]/",
        ),
        (
            "/admin/consent/customer/100001/receipt/7.json",
            "/admin/consent/customer/[number]/receipt/[event_id].json",
        ),
        ("/admin/anything/100001/", "/admin/[url]"),
        ("/api/v1/me/history/12/receipt", "/api/v1/me/history/[event_id]/receipt"),
        ("/api/v1/customers/100001", "/api/v1/[rest]"),
        ("/history/12/receipt/", "/history/[event_id]/receipt/"),
        ("/nothing/here/100001", "/nothing/here/[n]"),
        ("/", "/"),
    ],
)
def test_a_logged_path_names_the_values_it_carried(path, logged):
    from config.logging import masked_path

    assert masked_path(path) == logged
