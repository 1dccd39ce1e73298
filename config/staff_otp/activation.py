"""Issuing activation codes and enrolling an authenticator with one.

- `issue_activation_code`: by a superuser or a member of *Access managers* (the
  permission `staff_otp.add_activationcode`), for another active staff member; or by
  `manage.py issue_staff_activation` (`issued_by=None`) for the first superuser and for
  recovery. Only the newest code of a staff member counts.
- `start_enrolment`: the staff member, logged in with their password and without a
  device, gives the code; it is used up, and a new unconfirmed device is made.
- `confirm_enrolment`: a code from that device confirms it.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ActivationCode

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ISSUE_PERMISSION = "staff_otp.add_activationcode"
# Letters and digits that cannot be mistaken for one another when read out (no 0/O, 1/I).
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# 12 characters of 32: 60 bits, far beyond guessing within a code's few hours.
LENGTH = 12


class ActivationRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown once, never stored
    activation: ActivationCode


def issue_activation_code(*, user: "User", issued_by: "User | None", at: dt.datetime) -> IssuedCode:
    if not (user.is_active and user.is_staff):
        raise ActivationRefused(_("Alleen een actieve medewerker krijgt een activeringscode."))
    if issued_by is not None:
        if issued_by.pk == user.pk:
            raise ActivationRefused(
                _("U kunt geen activeringscode voor uzelf uitgeven. Vraag een collega.")
            )
        if not issued_by.has_perm(ISSUE_PERMISSION):
            raise ActivationRefused(_("U mag geen activeringscodes uitgeven."))
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    activation = ActivationCode.objects.create(
        user=user,
        code_sha256=_digest(code),
        issued_by=issued_by,
        issued_at=at,
        expires_at=at + dt.timedelta(hours=settings.STAFF_ACTIVATION_HOURS),
    )
    return IssuedCode(
        code="-".join(code[i : i + 4] for i in range(0, LENGTH, 4)), activation=activation
    )


@transaction.atomic
def start_enrolment(*, user: "User", code: str, at: dt.datetime) -> TOTPDevice:
    """Use up the staff member's newest code; a new, unconfirmed device to scan."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ActivationRefused(_("U heeft al een authenticator."))
    newest = (
        ActivationCode.objects.select_for_update()
        .filter(user=user)
        .order_by("-issued_at", "-id")
        .first()
    )
    if newest is None or not constant_time_compare(newest.code_sha256, _digest(code)):
        raise ActivationRefused(
            _("Deze activeringscode klopt niet. Vraag een beheerder om een nieuwe.")
        )
    if newest.used_at is not None:
        raise ActivationRefused(
            _("Deze activeringscode is al gebruikt. Vraag een beheerder om een nieuwe.")
        )
    if newest.expires_at <= at:
        raise ActivationRefused(
            _("Deze activeringscode is verlopen. Vraag een beheerder om een nieuwe.")
        )
    newest.used_at = at
    newest.save(update_fields=["used_at"])
    # A secret shown before and never confirmed is of no use to anyone.
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="admin", confirmed=False)


def confirm_enrolment(*, device: TOTPDevice, token: str) -> bool:
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


def _digest(code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()
