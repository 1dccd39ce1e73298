"""`make run` shows what a bank ships: started the way `make run` starts it (`bin/run`,
the dev settings, runserver) on a port of its own (`PORT`), over real HTTP, an unknown
address gets our 404 page and not Django's technical one with the URL list, a choice sent
with a stale CSRF cookie gets the designed answer (the dashboard's script then says in
the card that nothing was saved; django-htmx's debug handler, which replaces the whole
page, is not there), and the static files are served without DEBUG."""

import os
import re
import signal
import subprocess
import time

import pytest
from django.conf import settings

from consent.demo import DEMO_PASSWORD
from infra.database import OWNER_ROLE, RUNTIME_ROLE, embedded_url
from tests.pages import form_fields
from tests.test_faults import Browserless, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_clock,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="points the server at the embedded PostgreSQL's test database",
    ),
]


@pytest.fixture
def make_run_server(transactional_db, tmp_path):
    port = free_port()
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": embedded_url(RUNTIME_ROLE, db["NAME"]),
        "DATABASE_OWNER_URL": embedded_url(OWNER_ROLE, db["NAME"]),
        "LEDGER_HMAC_KEY": settings.LEDGER_HMAC_KEY,
        "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY,
        "LEDGER_PUBLIC_KEY": settings.LEDGER_PUBLIC_KEY,
        "LEDGER_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    log = tmp_path / "run.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(settings.BASE_DIR / "bin" / "run")],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # runserver's reloader has a child: stop them both
        )
    probe = Browserless(port)
    try:
        for _ in range(240):
            try:
                if probe.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"bin/run stopped:\n{log.read_text()}")
                time.sleep(0.5)
        else:
            pytest.fail(f"bin/run did not come up:\n{log.read_text()}")
        yield port, log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_make_run_serves_the_designed_pages_not_debug_ones(make_run_server):
    port, log = make_run_server
    assert f"Serving on http://127.0.0.1:{port}" in log.read_text()
    visitor = Browserless(port)

    status, page = visitor.request("GET", "/does-not-exist/")
    assert status == 404
    assert "Pagina niet gevonden" in page and 'class="site-header"' in page
    assert "URLconf" not in page and "Using the URLconf" not in page

    # A demo customer (load_demo) on the dashboard: its scripts and styles are served.
    customer = Browserless(port)
    _, login = customer.request("GET", "/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    credentials = {"csrfmiddlewaretoken": token, "username": "100001", "password": DEMO_PASSWORD}
    assert customer.request("POST", "/accounts/login/", credentials)[0] == 302
    status, dashboard = customer.request("GET", "/")
    assert status == 200
    assert "django-htmx.js" not in dashboard
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', dashboard):
        assert customer.request("GET", asset)[0] == 200, asset

    # The CSRF cookie went stale (another tab logged in again, the cookie was cleared):
    # the htmx choice gets the designed 403, which the dashboard's script turns into
    # "not saved" in the card.
    page_token = customer.cookies["csrftoken"]
    customer.cookies["csrftoken"] = "renewed" * 4 + "abcd"
    choice = {**form_fields(dashboard, "/choices/offers_spending/"), "choice": "withdraw"}
    status, answer = customer.request(
        "POST",
        "/choices/offers_spending/",
        choice,
        {"X-CSRFToken": page_token, "HX-Request": "true"},
    )
    assert status == 403
    assert "Uw keuze is NIET opgeslagen" in answer and "CSRF verification failed" not in answer
