"""The contact centre's side of consent (group *Klantenservice*).

One customer on one page (`customer_file`): each purpose's state and whether it counts
now (and if not, why), the whole history with receipts, and whatever other apps add
(offers, with their history) through `signals.staff_sections` — `consent` never imports
them. Never banking data: no transactions, balances or amounts.

A customer who phones or visits a branch can ask staff to switch a purpose or to stop
everything (`act_for_customer`). That goes through the same functions as the customer's
own choice (`record_choice`, version-bound; `stop_all_offers`; `lift_objection`), with
the staff member as the event's actor and the channel they name; a `StaffAction` next
to each event keeps what the ledger has no field for: the identity check and the note.
"""

import datetime as dt
import functools
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from infra.effects import answers
from infra.languages import text_language
from ledger.models import Action, Channel, ConsentEvent

from . import signals
from .catalogue import statement_sha256, statement_text
from .channels import is_channel
from .choices import (
    ChoiceError,
    RecordedChoice,
    lift_objection,
    record_choice,
    stop_all_offers,
)
from .dashboard import Dashboard, current_versions, customer_dashboard, customer_history
from .models import Customer, PurposeVersion, StaffAction
from .notices import LANGUAGE_NAMES, readable_notice

# How a customer can ask staff to act for them.
STAFF_CHANNELS = (Channel.PHONE, Channel.BRANCH)


def done_by_staff(channel: str) -> str:
    """How a choice staff recorded for the customer is described, in one wording that is
    true everywhere: the customer's history and receipt, and the staff's confirmation
    (the customer sees neither the staff member's name nor the note)."""
    if channel == Channel.BRANCH:
        return str(_("door een medewerker van de bank, op een kantoor"))
    return str(_("door een medewerker van de bank, telefonisch"))


def how_recorded(event: ConsentEvent, *, customer_user_id: int | None) -> str:
    """How an event came about, as the customer reads it: their own choice (the channel),
    the bank's system, or a staff member for them (`done_by_staff`)."""
    if not event.actor_id:
        who = "system"
    elif event.actor_id != customer_user_id:
        who = "staff"
    else:
        who = "customer"
    return _how_recorded(event.channel, who, translation.get_language())


# A history prints this on every line, from a handful of (channel, who) pairs: worded once
# per language (`language` is the key; the words are the active language's).
@functools.lru_cache(maxsize=256)
def _how_recorded(channel_code: str, who: str, language: str | None) -> str:
    # The channel's label as `get_channel_display()` gives it.
    try:
        channel = str(Channel(channel_code).label)
    except ValueError:
        channel = channel_code
    if who == "system":
        return str(_("%(channel)s, automatisch") % {"channel": channel})
    if who == "staff":
        return done_by_staff(channel_code)
    return channel


PERMISSION = "consent.act_for_customer"


# --- Sections other apps add to the page ----------------------------------------------------
@dataclass(frozen=True)
class StaffSection:
    """A part of the customer page another app adds (`signals.staff_sections`): its
    template and context, loaded in a fixed number of queries; never banking data."""

    template: str
    context: dict


@dataclass(frozen=True)
class CustomerFile:
    customer: Customer
    dashboard: Dashboard
    events: list[ConsentEvent]  # newest first, each with its `staff_action` (or None)
    sections: list[StaffSection]

    @property
    def cards(self):
        return self.dashboard.cards

    @property
    def purpose_cards(self):
        """Every purpose but the contact channels."""
        return [card for card in self.cards if not is_channel(card.code)]

    @property
    def channel_cards(self):
        """The contact channels (`consent.channels`): how the bank may contact the
        customer about offers."""
        return [card for card in self.cards if is_channel(card.code)]

    @property
    def objection(self):
        return self.dashboard.objection


def customer_file(*, customer: Customer, at: dt.datetime, language: str) -> CustomerFile:
    """Everything the contact centre sees about one customer, texts in `language`.
    A fixed number of queries, however long the history."""
    events = list(customer_history(customer).select_related("actor", "staff_action__staff"))
    return CustomerFile(
        customer=customer,
        dashboard=customer_dashboard(customer, language=language, at=at),
        events=events,
        sections=answers(signals.staff_sections, customer=customer, at=at, language=language),
    )


# --- Acting for a customer --------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    """What staff read out (or show) to the customer before recording the choice, in the
    customer's language; its version and hash go back with the form, as on the
    customer's own page."""

    text: str  # in words, to read aloud (a purpose's notice: `consent.notices`)
    language: str
    version: PurposeVersion | None = None
    notice_sha256: str = ""
    exact_text: str = ""  # the hashed text, "voor controle"

    @property
    def language_name(self) -> str:
        return str(LANGUAGE_NAMES[text_language(self.language)])


def notice_for(
    *, customer: Customer, action: str, purpose_code: str | None, at: dt.datetime
) -> Notice:
    """The text staff read to the customer for `action` (a grant or withdrawal of
    `purpose_code`, stopping everything, lifting the objection)."""
    language = customer.language
    if action in (Action.OBJECTED, Action.OBJECTION_LIFTED):
        return Notice(
            text=statement_text(action, language),
            language=language,
            notice_sha256=statement_sha256(action, language),
        )
    version = current_versions(at=at, code=purpose_code).first()
    if version is None:
        raise ChoiceError(_("Onbekend doel: %(code)s") % {"code": purpose_code})
    return Notice(
        text=readable_notice(version, language).as_text(),
        language=language,
        version=version,
        notice_sha256=version.notice_sha256(language),
        exact_text=version.notice_text(language),
    )


class StaffActionIncomplete(ChoiceError):
    """Channel, identity check or note missing. Nothing was written."""


def act_for_customer(
    *,
    customer: Customer,
    staff,
    action: str,
    channel: str,
    identity_checked: bool,
    note: str,
    at: dt.datetime,
    purpose_code: str | None = None,
    version: int | None = None,
    notice_sha256: str | None = None,
) -> RecordedChoice:
    """Record what the customer asked a staff member for: grant or withdraw one purpose
    (on the text the staff member had on screen: `version`, `notice_sha256`), stop all
    personal offers, or lift the objection. One purpose at a time: staff record exactly
    what the customer asked, never more.

    The same rules as the customer's own choice apply (`record_choice` refuses a grant
    under 16, against a standing objection, on a changed text); each event written gets
    a `StaffAction` with the identity check and the note, in the same transaction.
    """
    if not staff.has_perm(PERMISSION):
        raise PermissionDenied
    note = (note or "").strip()
    if channel not in STAFF_CHANNELS or not identity_checked or not note:
        raise StaffActionIncomplete(
            _(
                "Kies hoe de klant het vraagt (telefoon of kantoor), bevestig dat u de"
                " identiteit van de klant heeft gecontroleerd en schrijf op wat de klant vroeg."
            )
        )
    who = {"customer": customer, "channel": channel, "actor": staff, "at": at}
    with transaction.atomic():
        if action in (Action.GRANTED, Action.WITHDRAWN):
            recorded = record_choice(
                purpose_code=purpose_code or "",
                action=action,
                version=version,
                notice_sha256=notice_sha256,
                language=customer.language,
                **who,
            )
        elif action == Action.OBJECTED:
            recorded = stop_all_offers(language=customer.language, **who)
            if not recorded.events:
                raise ChoiceError(_("Het bezwaar staat al en er stond niets aan."))
        elif action == Action.OBJECTION_LIFTED:
            recorded = lift_objection(language=customer.language, **who)
        else:
            raise ChoiceError(_("Onbekende keuze: %(action)s") % {"action": action})
        StaffAction.objects.bulk_create(
            [
                StaffAction(
                    event=event,
                    staff=staff,
                    channel=channel,
                    identity_checked=True,
                    note=note,
                    recorded_at=at,
                )
                for event in recorded.events
            ]
        )
    return recorded
