"""The text a customer approves: who asks, what, for how long and why, in plain words.

It is made from the permission and the customer's accounts, in the customer's language,
and is what the approval is bound to: the page shows it and sends back its version and
SHA-256; `access.actions.approve` makes it again and writes nothing when it differs (a
request changed, a day passed, an account came or went). Its SHA-256 is the ledger
event's notice hash, and the text itself is kept on the permission, so the receipt
shows exactly what was approved.

`TEXT_VERSION` goes up when the wording changes; texts approved earlier keep theirs.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from banking.models import Account, AccountKind
from consent.catalogue import CONTROLLER_EN, CONTROLLER_NL
from infra.languages import text_language

from .models import HISTORY_DAYS, DataUser, Permission

TEXT_VERSION = 1
# Payment accounts (PSD2 art. 4(12)): what a data user may ask for. Savings are not.
PAYMENT_ACCOUNT_KINDS = (AccountKind.CHECKING, AccountKind.STUDENT)


@dataclass(frozen=True)
class ApprovalText:
    paragraphs: tuple[str, ...]
    language: str
    version: int = TEXT_VERSION

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def history_from(at: dt.datetime) -> dt.datetime:
    """Transactions booked from the start of the day HISTORY_DAYS before `at` (Amsterdam)."""
    day = timezone.localdate(at) - dt.timedelta(days=HISTORY_DAYS)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def accounts_in_scope(permission: Permission, customer_accounts: list[Account]) -> list[Account]:
    """The customer's payment accounts the permission asks for, in IBAN order. Asked
    IBANs that are not the customer's payment accounts are left out here and refused by
    `unknown_ibans`."""
    payment = [a for a in customer_accounts if a.kind in PAYMENT_ACCOUNT_KINDS]
    if permission.all_accounts:
        return sorted(payment, key=lambda a: a.iban)
    asked = set(permission.ibans)
    return sorted((a for a in payment if a.iban in asked), key=lambda a: a.iban)


def unknown_ibans(permission: Permission, customer_accounts: list[Account]) -> list[str]:
    """Asked IBANs that are not one of this customer's payment accounts."""
    mine = {a.iban for a in customer_accounts if a.kind in PAYMENT_ACCOUNT_KINDS}
    return sorted(set(permission.ibans) - mine) if not permission.all_accounts else []


def approval_text(
    permission: Permission, *, accounts: list[Account], language: str, at: dt.datetime
) -> ApprovalText:
    data_user: DataUser = permission.data_user
    language = text_language(language)
    with translation.override(language):
        name = data_user.name
        what = [_("rekeninggegevens (IBAN, valuta, soort rekening)")]
        if permission.balances:
            what.append(_("saldo"))
        if permission.transactions:
            what.append(
                _("transacties geboekt vanaf %(date)s")
                % {"date": formats.date_format(history_from(at), "j F Y")}
            )
        paragraphs = (
            _(
                "%(name)s (%(country)s, registratie- of vergunningnummer %(number)s) vraagt"
                " toegang tot uw betaalrekeningen bij %(bank)s."
            )
            % {
                "name": name,
                "country": data_user.country,
                "number": data_user.registration_number,
                "bank": (CONTROLLER_EN if language == "en" else CONTROLLER_NL).split(",")[0],
            },
            _("Welke rekeningen: %(accounts)s.")
            % {"accounts": ", ".join(a.iban for a in accounts)},
            _("Welke gegevens: %(what)s.") % {"what": ", ".join(what)},
            _("Hoe lang: tot en met %(date)s, tenzij u of %(name)s het eerder beëindigt.")
            % {"date": formats.date_format(permission.valid_until, "j F Y"), "name": name},
            _("Hoe vaak: ten hoogste %(count)s keer per dag zonder dat u erbij bent.")
            % {"count": permission.frequency_per_day},
            _("Waarom, in de woorden van %(name)s: “%(reason)s”.")
            % {"name": name, "reason": permission.reason},
            _(
                "U kunt de toegang altijd met één klik intrekken op Mijn privacykeuzes, onder"
                " ‘Wie kan uw gegevens zien’. %(name)s krijgt alleen wat hierboven staat; u"
                " ziet daar ook wanneer en wat %(name)s las."
            )
            % {"name": name},
        )
    return ApprovalText(paragraphs=tuple(paragraphs), language=language)
