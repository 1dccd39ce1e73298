"""Staff need a second factor for /admin/ under production settings (issue #10, part 4)."""

import re
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory

PASSWORD = "correct horse battery"


@pytest.fixture
def otp_required(settings):
    settings.STAFF_OTP_REQUIRED = True


@pytest.fixture
def petra(db):
    return UserFactory(username="petra", is_staff=True, is_superuser=True)


def code_for(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def password_login(client):
    response = client.post(
        "/admin/login/?next=/admin/ledger/consentevent/",
        {"username": "petra", "password": PASSWORD},
    )
    assert response.status_code == 302
    return response


def test_a_password_alone_does_not_open_the_admin(client, petra, otp_required):
    password_login(client)
    response = client.get("/admin/ledger/consentevent/")
    assert response.status_code == 302
    assert client.get(response.url).url.startswith("/admin/otp/")
    assert client.get("/admin/").status_code == 302


def test_staff_enrol_a_device_once_and_then_reach_the_admin(client, petra, otp_required):
    password_login(client)
    page = client.get("/admin/otp/?next=/admin/ledger/consentevent/")
    assert page.status_code == 200
    body = page.content.decode()
    device = TOTPDevice.objects.get(user=petra)
    assert not device.confirmed
    assert "otpauth://totp/Voorbeeldbank%3Apetra" in body and 'src="data:image/svg+xml' in body
    # The strict CSP holds: no inline script or style on the page.
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert not re.search(r"<script>|<script [^>]*>[^<]|style=|<style", body)

    response = client.post(
        "/admin/otp/?next=/admin/ledger/consentevent/", {"token": code_for(device)}
    )
    assert response.status_code == 302 and response.url == "/admin/ledger/consentevent/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/ledger/consentevent/").status_code == 200
    # The secret is never shown again.
    client.logout()
    password_login(client)
    again = client.get("/admin/otp/").content.decode()
    assert "otpauth://" not in again and "Vul de code in" in again


def test_a_wrong_code_is_refused_and_changes_nothing(client, petra, otp_required):
    password_login(client)
    client.get("/admin/otp/")
    device = TOTPDevice.objects.get(user=petra)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post("/admin/otp/", {"token": wrong})
    assert response.status_code == 200
    assert "Deze code klopt niet" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/").status_code == 302


def test_an_enrolled_staff_member_gives_a_code_at_every_login(client, petra, otp_required):
    device = TOTPDevice.objects.create(user=petra, name="phone", confirmed=True)
    password_login(client)
    assert client.get("/admin/").status_code == 302
    response = client.post("/admin/otp/", {"token": code_for(device)})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert TOTPDevice.objects.filter(user=petra).count() == 1


def test_customers_cannot_use_the_second_factor_page(client, db, otp_required):
    customer = UserFactory(username="100001")
    client.force_login(customer)
    response = client.get("/admin/otp/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert not TOTPDevice.objects.exists()


def test_demo_settings_skip_the_second_factor_and_say_so(client, petra, settings):
    settings.STAFF_OTP_REQUIRED = False
    password_login(client)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "zonder tweede factor" in page.content.decode()


def test_production_settings_require_the_second_factor_and_refuse_demo_data():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;"
            " print(s.STAFF_OTP_REQUIRED, s.DEMO_MODE)",
        ],
        cwd=django_settings.BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "a-long-random-test-secret-" + "k" * 40,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert re.fullmatch(r"True False\s*", result.stdout), result.stderr
