"""One-time activation codes: enrolling an authenticator takes one, issued by someone else.

Without them, whoever had a staff password enrolled their own authenticator on the first
login (trust on first use), and again after a lost device was deleted. The code is shown
once to the person who issued it and stored only as its SHA-256 (it is random and long,
so no slow hash is needed); it expires, and it is used once.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


@pgtrigger.register(
    # What a code is for and who issued it never changes; a used code stays used.
    pgtrigger.Protect(
        name="activation_code_is_fixed",
        operation=pgtrigger.Update,
        condition=pgtrigger.AnyChange(
            "user", "code_sha256", "issued_by", "issued_at", "expires_at"
        ),
    ),
    pgtrigger.Protect(
        name="activation_code_used_once",
        operation=pgtrigger.Update,
        condition=pgtrigger.Q(old__used_at__isnull=False),
    ),
    pgtrigger.Protect(name="activation_codes_are_kept", operation=pgtrigger.Delete),
)
class ActivationCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("medewerker"),
    )
    code_sha256 = models.CharField(max_length=64, unique=True)
    # Empty: issued by `manage.py issue_staff_activation` (the first superuser, recovery).
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uitgegeven door"),
    )
    issued_at = models.DateTimeField(_("uitgegeven op"))
    expires_at = models.DateTimeField(_("geldig tot"))
    used_at = models.DateTimeField(_("gebruikt op"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("activeringscode")
        verbose_name_plural = _("activeringscodes")
        constraints = [
            # Four eyes: nobody lets themselves enrol.
            models.CheckConstraint(
                condition=models.Q(issued_by__isnull=True) | ~models.Q(issued_by=models.F("user")),
                name="activation_code_not_for_oneself",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("issued_at")),
                name="activation_code_expires_after_issue",
            ),
            models.CheckConstraint(
                condition=models.Q(used_at__isnull=True)
                | models.Q(used_at__gte=models.F("issued_at"), used_at__lt=models.F("expires_at")),
                name="activation_code_used_while_valid",
            ),
        ]
        indexes = [models.Index(fields=["user", "-issued_at"], name="activation_newest_per_user")]

    def __str__(self):
        return f"{self.user} {self.issued_at:%Y-%m-%d %H:%M}"
