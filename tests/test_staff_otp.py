"""Staff need a second factor for /admin/ under production settings, and enrolling an
authenticator needs a one-time activation code from someone else: a superuser, a member
of *Access managers*, or the `issue_staff_activation` command. A staff password alone,
however it was obtained, enrols nothing, also not after a lost device is deleted."""

import datetime as dt
import io
import re
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory

PASSWORD = "correct horse battery"
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b")


@pytest.fixture
def otp_required(settings):
    settings.STAFF_OTP_REQUIRED = True


@pytest.fixture
def petra(db):
    """A privacy officer: a password, and (so far) no authenticator."""
    petra = UserFactory(username="petra", is_staff=True)
    petra.groups.set([Group.objects.get(name="Privacy officers")])
    return petra


@pytest.fixture
def ada(db):
    """An access manager, already enrolled, who issues activation codes in the admin."""
    ada = UserFactory(username="ada", is_staff=True)
    ada.groups.set([Group.objects.get(name="Access managers")])
    TOTPDevice.objects.create(user=ada, name="phone", confirmed=True)
    return ada


def code_for(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def password_login(client, username="petra"):
    response = client.post(
        "/admin/login/?next=/admin/ledger/consentevent/",
        {"username": username, "password": PASSWORD},
    )
    assert response.status_code == 302
    return response


def issued_by_command(username) -> str:
    out = io.StringIO()
    call_command("issue_staff_activation", username, stdout=out)
    return CODE.search(out.getvalue()).group(1)


def issued_in_the_admin(client, issuer, user) -> str:
    """What an access manager does: the admin's form, the code shown once."""
    client.force_login(issuer)
    client.post("/admin/otp/", {"token": code_for(TOTPDevice.objects.get(user=issuer))})
    response = client.post("/admin/staff_otp/activationcode/add/", {"user": user.pk})
    assert response.status_code == 200, response.content.decode()[:2000]
    client.logout()
    return CODE.search(response.content.decode()).group(1)


def activate(client, code):
    return client.post("/admin/otp/", {"code": code})


def enrol(client, code):
    """Password already given: the activation code, then a code from the new device."""
    page = activate(client, code)
    assert "otpauth://" in page.content.decode()
    device = TOTPDevice.objects.get(confirmed=False, user__username="petra")
    response = client.post("/admin/otp/", {"token": code_for(device)})
    assert response.status_code == 302
    return device


# --- The attack: a staff password alone ---------------------------------------------------
def test_a_password_alone_does_not_open_the_admin(client, petra, otp_required):
    password_login(client)
    response = client.get("/admin/ledger/consentevent/")
    assert response.status_code == 302
    assert client.get(response.url).url.startswith("/admin/otp/")
    assert client.get("/admin/").status_code == 302


def test_a_password_alone_can_no_longer_enrol_an_authenticator(client, petra, otp_required):
    """Before: the first login showed a fresh secret to whoever had the password."""
    password_login(client)
    page = client.get("/admin/otp/").content.decode()
    assert "otpauth://" not in page and "data:image/svg+xml" not in page
    assert "activeringscode" in page
    assert not TOTPDevice.objects.filter(user=petra).exists()
    # Whatever they send, nothing is enrolled and the admin stays closed.
    for attempt in ({"token": "123456"}, {"code": "AAAA-BBBB-CCCC"}, {}):
        client.post("/admin/otp/", attempt)
    assert not TOTPDevice.objects.filter(user=petra).exists()
    assert client.get("/admin/").status_code == 302


def test_deleting_a_lost_device_does_not_let_the_password_enrol_again(client, petra, otp_required):
    password_login(client)
    enrol(client, issued_by_command("petra"))
    client.logout()
    TOTPDevice.objects.filter(user=petra).delete()  # lost phone: a superuser deletes it
    password_login(client)
    page = client.get("/admin/otp/").content.decode()
    assert "otpauth://" not in page and "activeringscode" in page
    assert not TOTPDevice.objects.filter(user=petra).exists()


# --- Enrolling with a code ----------------------------------------------------------------
def test_a_colleague_issues_a_code_in_the_admin_and_it_enrols_once(
    client, petra, ada, otp_required
):
    code = issued_in_the_admin(client, ada, petra)
    password_login(client)
    page = activate(client, code)
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


def test_a_code_works_once(client, petra, otp_required):
    code = issued_by_command("petra")
    password_login(client)
    assert "otpauth://" in activate(client, code).content.decode()
    # Another session (someone who saw the code over her shoulder) cannot use it again,
    # nor can she once the first try was abandoned.
    other = client.__class__()
    password_login(other)
    refused = activate(other, code).content.decode()
    assert "otpauth://" not in refused and "al gebruikt" in refused
    assert TOTPDevice.objects.filter(user=petra).count() == 1


def test_a_code_issued_for_another_user_does_not_work(client, petra, ada, otp_required):
    rik = UserFactory(username="rik", is_staff=True)
    code_for_rik = issued_in_the_admin(client, ada, rik)
    password_login(client)
    refused = activate(client, code_for_rik).content.decode()
    assert "otpauth://" not in refused and "klopt niet" in refused
    assert not TOTPDevice.objects.filter(user=petra).exists()
    assert not TOTPDevice.objects.filter(user=rik).exists()


def test_an_expired_code_fails(client, petra, otp_required, _frozen_clock):
    code = issued_by_command("petra")
    _frozen_clock.shift(dt.timedelta(hours=django_settings.STAFF_ACTIVATION_HOURS, minutes=1))
    password_login(client)
    refused = activate(client, code).content.decode()
    assert "otpauth://" not in refused and "verlopen" in refused
    assert not TOTPDevice.objects.filter(user=petra).exists()


def test_only_the_newest_code_counts(client, petra, otp_required):
    older = issued_by_command("petra")
    newer = issued_by_command("petra")
    password_login(client)
    assert "otpauth://" not in activate(client, older).content.decode()
    assert "otpauth://" in activate(client, newer).content.decode()


def test_a_wrong_code_from_the_device_is_refused_and_changes_nothing(client, petra, otp_required):
    password_login(client)
    activate(client, issued_by_command("petra"))
    device = TOTPDevice.objects.get(user=petra)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post("/admin/otp/", {"token": wrong})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Deze code klopt niet" in body and "otpauth://" in body  # she can scan again
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/").status_code == 302


# --- Who issues codes ---------------------------------------------------------------------
def test_a_staff_member_cannot_issue_a_code_for_themselves(client, ada):
    client.force_login(ada)
    form = client.get("/admin/staff_otp/activationcode/add/").content.decode()
    assert f'value="{ada.pk}"' not in form  # not offered
    forged = client.post("/admin/staff_otp/activationcode/add/", {"user": ada.pk})
    assert forged.status_code == 200
    assert not CODE.search(forged.content.decode())
    ActivationCode = apps.get_model("staff_otp", "ActivationCode")
    assert not ActivationCode.objects.exists()
    # Nor past the admin: the database refuses it.
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivationCode.objects.create(
            user=ada,
            issued_by=ada,
            code_sha256="0" * 64,
            issued_at=timezone.now(),
            expires_at=timezone.now() + dt.timedelta(hours=1),
        )


def test_a_superuser_cannot_issue_a_code_for_themselves_either(client, db):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    client.post("/admin/staff_otp/activationcode/add/", {"user": root.pk})
    assert not apps.get_model("staff_otp", "ActivationCode").objects.exists()


def test_other_staff_cannot_issue_codes(client, petra):
    rik = UserFactory(username="rik", is_staff=True)
    rik.groups.set([Group.objects.get(name="Offer reviewers")])
    client.force_login(rik)
    assert client.get("/admin/staff_otp/activationcode/add/").status_code == 403
    response = client.post("/admin/staff_otp/activationcode/add/", {"user": petra.pk})
    assert response.status_code == 403
    assert not apps.get_model("staff_otp", "ActivationCode").objects.exists()


def test_a_code_is_shown_once_and_stored_only_as_a_hash(client, petra, ada):
    code = issued_in_the_admin(client, ada, petra)
    ActivationCode = apps.get_model("staff_otp", "ActivationCode")
    row = ActivationCode.objects.get()
    assert (row.user, row.issued_by) == (petra, ada)
    plain = code.replace("-", "")
    stored = " ".join(str(value) for value in row.__dict__.values())
    assert code not in stored and plain not in stored
    client.force_login(ada)
    listing = client.get("/admin/staff_otp/activationcode/").content.decode()
    detail = client.get(f"/admin/staff_otp/activationcode/{row.pk}/change/").content.decode()
    assert code not in listing and code not in detail and row.code_sha256 not in detail


def test_the_command_issues_the_first_superusers_code(client, db, otp_required):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    code = issued_by_command("root")
    password_login(client, "root")
    assert "otpauth://" in activate(client, code).content.decode()


def test_the_command_refuses_someone_who_is_not_staff(db):
    UserFactory(username="100001")
    with pytest.raises(CommandError, match="active staff member"):
        call_command("issue_staff_activation", "100001", stdout=io.StringIO())


def test_nobody_adds_or_reads_an_authenticator_key_in_the_admin(client, petra):
    """A superuser could otherwise give anyone a device with a key of their choosing."""
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=petra, name="phone", confirmed=True)
    client.force_login(root)
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    config = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/", follow=True)
    assert device.key not in config.content.decode()
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page
    # Deleting a lost device stays possible.
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/delete/").status_code == 200


# --- Every login ----------------------------------------------------------------------------
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
    page = client.get("/admin/").content.decode()
    assert "zonder tweede factor" in page and "activeringscode" in page


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
