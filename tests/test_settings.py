import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool


def production_check(**env):
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for live_server; production must not have it.
    unset = ("DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = production_check()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = production_check(DJANGO_SECRET_KEY="a-long-random-test-secret-" + "k" * 40)
    assert result.returncode == 0, result.stderr


def test_the_login_page_is_served_with_a_strict_content_security_policy(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# --- Settings that fail loudly -----------------------------------------------------------
def run_python(code, **env):
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE")
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-long-random-test-secret-" + "k" * 40,
}
SETUP = "import django; django.setup(); from django.conf import settings as s; "
SHOW_REDIRECT = SETUP + "print(s.SECURE_SSL_REDIRECT)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("True", True), ("1", True), ("yes", True), ("false", False), ("0", False), ("OFF", False)],
)
def test_environment_booleans_are_read_whatever_their_spelling(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG", default=not expected) is expected


@pytest.mark.parametrize("value", ["ture", "2", "enabled", "no way"])
def test_an_environment_boolean_that_is_not_one_stops_the_start_naming_it(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG", default=True)


def test_an_unset_or_empty_boolean_takes_its_default(monkeypatch):
    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert env_bool("SOME_FLAG", default=True) is True
    monkeypatch.setenv("SOME_FLAG", "")
    assert env_bool("SOME_FLAG", default=False) is False


def test_ssl_redirect_spelled_True_or_1_keeps_the_redirect_on():
    for value in ("True", "1"):
        result = run_python(SHOW_REDIRECT, DJANGO_SECURE_SSL_REDIRECT=value, **PRODUCTION)
        assert result.stdout.strip() == "True", (value, result.stderr)
    result = run_python(SHOW_REDIRECT, DJANGO_SECURE_SSL_REDIRECT="false", **PRODUCTION)
    assert result.stdout.strip() == "False", result.stderr


def test_production_refuses_to_start_with_a_misspelt_boolean():
    result = production_check(
        DJANGO_SECRET_KEY="a-long-random-test-secret-" + "k" * 40, DJANGO_BEHIND_PROXY="ja"
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_BEHIND_PROXY='ja'" in result.stderr


def test_only_the_dev_settings_have_a_fallback_secret_key():
    show = SETUP + "print(repr(s.SECRET_KEY))"
    dev = run_python(show, DJANGO_SETTINGS_MODULE="config.settings.dev")
    assert "dev-only-not-secret" in dev.stdout
    base = run_python(show, DJANGO_SETTINGS_MODULE="config.settings.base")
    assert base.returncode != 0 and "SECRET_KEY setting must not be empty" in base.stderr
    assert "dev-only" not in settings.SECRET_KEY


def test_importing_settings_and_checking_them_starts_no_database(tmp_path):
    pgdata = tmp_path / "pgdata"
    result = run_python(
        "import django; django.setup();"
        " from django.core.management import call_command; call_command('check', deploy=True)",
        PGDATA_DIR=str(pgdata),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert not pgdata.exists()


def test_load_demo_refuses_to_run_with_production_settings(tmp_path):
    pgdata = tmp_path / "pgdata"
    result = run_python(
        "import django; django.setup();"
        " from django.core.management import call_command; call_command('load_demo')",
        PGDATA_DIR=str(pgdata),
        **PRODUCTION,
    )
    assert result.returncode != 0
    assert "load_demo runs only with config.settings.dev or config.settings.test" in result.stderr
    assert not pgdata.exists()
