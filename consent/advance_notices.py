"""Telling the customer before a consent stops counting (issue 25), not afterwards.

Two reasons, each told once (`AdvanceNotice`, UNIQUE per customer, purpose, reason and
what it is about):

- `expiry`: from thirty days (`DAYS_BEFORE`) before the consent's last valid day
  (`consent.validity.last_valid_day`), unless a material text change ends it first;
- `text_change`: as soon as a material version is scheduled (published to take effect
  later) for a purpose the customer has a consent on that counts now and would still count
  when the change takes effect.

The customer sees it at the top of the dashboard (`coming_ends`, from the cards) and gets
a service message by e-mail (`send_advance_notices`, daily on the schedule), in their
language. Not marketing: no channel choice applies.

Sending is at most once. The row is inserted (or a failed one claimed again) and
committed before the e-mail goes out; a second sender's insert waits for the first's
commit and then does nothing, so only one of them sends. After the send the row says
`sent`; when the backend raises it says `failed` and the next run tries again (nothing
was sent). A process that dies between the send and that update leaves the row
`sending`: it is not sent again (twice would be worse than once not marked), and the run
counts such rows so an operator can look.
"""

import datetime as dt
import functools
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import connection, transaction
from django.db.models import DateField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Value
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from infra.effects import Effect, EffectKind
from infra.languages import text_language
from infra.precompiled import CUSTOMER_SAMPLES, Inputs, PrecompiledQuerySet, precompile_queryset

from .dashboard import Dashboard, HistoryEntry
from .models import AdvanceNotice, Customer, PurposeVersion
from .validity import (
    ends_by_material_change,
    last_valid_day,
    start_of_day,
    valid_consents,
)

logger = logging.getLogger(__name__)

# How long before its last valid day the customer is told a consent expires.
DAYS_BEFORE = 30
# A row still `sending` after this long: its process died after claiming it (counted).
SENDING_STUCK_AFTER = dt.timedelta(hours=1)
# Rows claimed in one INSERT.
BATCH = 500

EXPIRY = AdvanceNotice.Reason.EXPIRY
TEXT_CHANGE = AdvanceNotice.Reason.TEXT_CHANGE


# --- What the dashboard shows -------------------------------------------------------------
@dataclass(frozen=True)
class Coming:
    """A consent that stops counting soon, as the top of the dashboard says it."""

    reason: str
    code: str
    title: str
    day: dt.date  # the last valid day, or the day the new text takes effect
    change_at: dt.datetime | None = None  # when the new text takes effect

    @property
    def anchor(self) -> str:
        return f"purpose-{self.code}"


def expiry_is_due(last_day: dt.date, *, today: dt.date) -> bool:
    """Whether a consent whose last valid day is `last_day` is told about on `today`."""
    return last_day - dt.timedelta(days=DAYS_BEFORE) <= today


def coming_ends(dashboard: Dashboard, *, at: dt.datetime) -> list[Coming]:
    """The customer's consents that count now and stop soon, from the cards (no query):
    those a scheduled material text ends, and those within DAYS_BEFORE of their last
    valid day. The same rules as `due_notices`."""
    today = timezone.localdate(at)
    coming = []
    for card in dashboard.choices:
        if card.ends_by_change and card.material_change_at is not None:
            change_on = timezone.localdate(card.material_change_at)
            coming.append(
                Coming(TEXT_CHANGE, card.code, card.title, change_on, card.material_change_at)
            )
        elif card.valid_until is not None and expiry_is_due(card.valid_until, today=today):
            coming.append(Coming(EXPIRY, card.code, card.title, card.valid_until))
    return sorted(coming, key=lambda item: (item.day, item.code))


# --- Who is due ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    customer_id: int
    purpose_id: int
    version_id: int
    reason: str
    key: str
    about_day: dt.date
    language: str


def due_notices(*, at: dt.datetime) -> list[Due]:
    """Every notice due at `at`, told or not (what the dashboards say): two queries,
    whatever the number of customers."""
    return list(_due(at=at, untold_only=False))


def _due(*, at: dt.datetime, untold_only: bool) -> Iterator[Due]:
    """The notices due at `at`, streamed: the consents that count now (`consent.validity`)
    near their end or on a purpose with a material version scheduled, in one query after
    the query for those versions. `untold_only`: without those already told (sent, sending
    or without an address; a failed one is due again), so a daily run does not go through
    every customer of a purpose again until its change takes effect. The UNIQUE row is
    still what makes a notice once; this only spares the work."""
    today = timezone.localdate(at)
    # Given before this moment: the last valid day is at most DAYS_BEFORE days away
    # (last_valid_day = given + MAX_AGE - 1 <= today + DAYS_BEFORE).
    near_end = start_of_day(
        today + dt.timedelta(days=DAYS_BEFORE - settings.CONSENT_MAX_AGE_DAYS + 2)
    )
    # The first material version scheduled per purpose: the one that ends its consents.
    changes = {
        purpose_id: (version_id, published_at)
        for purpose_id, version_id, published_at in PurposeVersion.objects.filter(
            material=True, published_at__gt=at
        )
        .order_by("purpose_id", "published_at")
        .distinct("purpose_id")
        .values_list("purpose_id", "pk", "published_at")
    }
    near = Q(changed_at__lt=near_end)
    changing = Q(purpose_id__in=list(changes))
    states = valid_consents(at=at)
    if untold_only:
        told = AdvanceNotice.objects.filter(
            customer=OuterRef("customer"), purpose=OuterRef("purpose")
        ).exclude(status=AdvanceNotice.Status.FAILED)
        # The same day as `last_valid_day` (TruncDate is in the current time zone).
        states = states.alias(
            _last_day=ExpressionWrapper(
                TruncDate("changed_at")
                + Value(dt.timedelta(days=settings.CONSENT_MAX_AGE_DAYS - 1)),
                output_field=DateField(),
            )
        )
        expiry_told = Exists(told.filter(reason=EXPIRY, about_day=OuterRef("_last_day")))
        change_told = Exists(
            told.filter(reason=TEXT_CHANGE, key__in=[str(v) for v, _at in changes.values()])
        )
        near = Q(near, ~expiry_told)
        changing = Q(changing, ~change_told)
    rows = (
        states.filter(near | changing)
        .values_list(
            "customer_id", "purpose_id", "purpose_version_id", "changed_at", "customer__language"
        )
        .order_by("customer_id", "purpose_id")
    )
    for customer_id, purpose_id, version_id, changed_at, language in rows.iterator(
        chunk_size=BATCH
    ):
        change = changes.get(purpose_id)
        if change is not None and ends_by_material_change(changed_at, material_change_at=change[1]):
            version, change_at = change
            reason, key, day = TEXT_CHANGE, str(version), timezone.localdate(change_at)
        else:
            day = last_valid_day(changed_at)
            if not expiry_is_due(day, today=today):
                continue
            reason, key = EXPIRY, day.isoformat()
        yield Due(customer_id, purpose_id, version_id, reason, key, day, language)


# --- Sending -------------------------------------------------------------------------------
@dataclass
class Sent:
    """What a run did, in numbers (`due`: not told before, or failed before)."""

    due: int = 0
    sent: int = 0
    failed: int = 0
    no_address: int = 0
    already_told: int = 0  # claimed by another run in the meantime
    stuck: int = 0  # rows left `sending` by a run that died: not sent again

    def __str__(self) -> str:
        return (
            f"{self.due} notices due: {self.sent} sent, {self.failed} failed (retried next run),"
            f" {self.no_address} not sent (no e-mail address), {self.already_told} taken by"
            f" another run; {self.stuck} left unconfirmed by an interrupted run"
        )


_CLAIM = f"""
    INSERT INTO {AdvanceNotice._meta.db_table} AS notice
        (customer_id, purpose_id, version_id, reason, key, about_day, language, status,
         not_sent_because, attempts, claimed_at)
    VALUES {{values}}
    ON CONFLICT (customer_id, purpose_id, reason, key) DO UPDATE
        SET status = 'sending', attempts = notice.attempts + 1, claimed_at = EXCLUDED.claimed_at,
            not_sent_because = ''
        WHERE notice.status = 'failed'
    RETURNING notice.id
"""


def _claim(due: list[Due], *, at: dt.datetime) -> list[int]:
    """Insert the rows of `due` (and take back failed ones), committed before anything is
    sent: the ids this run, and no other, sends. A concurrent run's INSERT of the same row
    waits for this commit, then finds it and does nothing."""
    claimed: list[int] = []
    for start in range(0, len(due), BATCH):
        batch = due[start : start + BATCH]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, 'sending', '', 1, %s)"] * len(batch))
        params: list[Any] = []
        for item in batch:
            params += [
                item.customer_id,
                item.purpose_id,
                item.version_id,
                item.reason,
                item.key,
                item.about_day,
                text_language(item.language),
                at,
            ]
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(_CLAIM.format(values=values), params)
            claimed += [row[0] for row in cursor.fetchall()]
    return claimed


def send_advance_notices(*, at: dt.datetime) -> Sent:
    """Tell every customer who is due and has not been told, by e-mail, once, a batch at
    a time (claimed, committed, then sent). Must run outside a transaction: each claim
    commits before its e-mails go."""
    result = Sent()
    mail = mailers.default
    for batch in itertools.batched(_due(at=at, untold_only=True), BATCH):
        claimed = _claim(list(batch), at=at)
        result.due += len(batch)
        result.already_told += len(batch) - len(claimed)
        notices = (
            AdvanceNotice.objects.filter(pk__in=claimed)
            .select_related("customer", "purpose", "version")
            .order_by("pk")
        )
        for notice in notices:
            _send(notice, mail=mail, at=at, result=result)
    result.stuck = AdvanceNotice.objects.filter(
        status=AdvanceNotice.Status.SENDING, claimed_at__lt=at - SENDING_STUCK_AFTER
    ).count()
    return result


def _send(notice: AdvanceNotice, *, mail: Any, at: dt.datetime, result: Sent) -> None:
    if not notice.customer.email:
        _finish(notice, status=AdvanceNotice.Status.NO_ADDRESS, why="no e-mail address")
        logger.info("advance notice %s not sent: the customer has no e-mail address", notice.pk)
        result.no_address += 1
        return
    try:
        if mail.send_messages([message(notice)]) != 1:
            raise RuntimeError("the e-mail backend sent nothing")
    except Exception as error:  # whatever the backend raises: nothing was sent
        why = f"{type(error).__name__}: {error}"
        _finish(notice, status=AdvanceNotice.Status.FAILED, why=why)
        logger.warning("advance notice %s not sent, retried next run: %r", notice.pk, error)
        result.failed += 1
        return
    _finish(notice, status=AdvanceNotice.Status.SENT, sent_at=at)
    result.sent += 1


def _finish(
    notice: AdvanceNotice, *, status: str, why: str = "", sent_at: dt.datetime | None = None
) -> None:
    with transaction.atomic(durable=True):
        AdvanceNotice.objects.filter(pk=notice.pk, status=AdvanceNotice.Status.SENDING).update(
            status=status, not_sent_because=why[:200], sent_at=sent_at
        )


# --- The message -------------------------------------------------------------------------
def dashboard_url(code: str) -> str:
    return f"{settings.CUSTOMER_SITE_URL.rstrip('/')}{reverse('dashboard')}#purpose-{code}"


def message(notice: AdvanceNotice) -> EmailMultiAlternatives:
    """The e-mail in the language stored with the notice (the customer's): plain text,
    and the same paragraphs as simple HTML (every text escaped), with the link to the card."""
    language = notice.language
    customer: Customer = notice.customer
    url = dashboard_url(notice.purpose.code)
    with translation.override(language):
        title = notice.version.text("title", language)
        day = date_format(notice.about_day, "j F Y")
        if notice.reason == EXPIRY:
            subject = _("Uw toestemming voor ‘%(title)s’ verloopt binnenkort") % {"title": title}
            what = expiry_sentence(title, day)
        else:
            subject = _("De tekst van ‘%(title)s’ verandert") % {"title": title}
            what = text_change_sentence(title, day)
        greeting = _("Beste %(name)s,") % {"name": customer.first_name or customer.customer_number}
        choose = _("Kies opnieuw of bekijk wat er verandert op uw overzicht:")
        service = _(
            "Dit is een servicebericht over uw privacykeuzes, geen reclame. U krijgt het één keer."
        )
        regards, bank = _("Met vriendelijke groet,"), _("Voorbeeldbank")
    body = "\n\n".join([greeting, what, f"{choose}\n{url}", service, f"{regards}\n{bank}"])
    html = format_html(
        '<html lang="{}"><body><p>{}</p><p>{}</p><p>{}<br><a href="{}">{}</a></p><p>{}</p>'
        "<p>{}<br>{}</p></body></html>",
        language,
        greeting,
        what,
        choose,
        url,
        url,
        service,
        regards,
        bank,
    )
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[customer.email],
        headers={"Content-Language": language},
    )
    email.attach_alternative(html, "text/html")
    return email


def expiry_sentence(title: str, day: str) -> str:
    return _(
        "Uw toestemming voor ‘%(title)s’ verloopt op %(date)s; daarna gebruiken wij uw"
        " gegevens hier niet meer voor, tenzij u opnieuw kiest."
    ) % {"title": title, "date": day}


def text_change_sentence(title: str, day: str) -> str:
    return _(
        "Op %(date)s verandert de tekst van ‘%(title)s’ op een belangrijk punt; uw"
        " toestemming geldt dan niet meer, tenzij u de nieuwe tekst leest en opnieuw kiest."
    ) % {"title": title, "date": day}


# --- The history -------------------------------------------------------------------------
def history_entries(*, customer: Customer, language: str, **_signal: Any) -> list[HistoryEntry]:
    """`consent.signals.history_entries`: each notice sent, "U kreeg bericht dat …"."""
    sent = _sent_notices().instances({"customer_id": customer.pk})
    return list(_entries(sent, language))


# The history's and the export's reads of a customer's notices: the ORM's querysets, their
# SQL compiled once per process (`infra.precompiled`); compiling them on every request was
# about 0.25 ms of CPU each (issue #24), most customers having no notice at all.
@functools.cache
def _sent_notices() -> PrecompiledQuerySet:
    def build(inputs: Inputs) -> QuerySet:
        return (
            AdvanceNotice.objects.filter(
                customer_id=inputs["customer_id"], status=AdvanceNotice.Status.SENT
            )
            .select_related("version")
            .order_by("sent_at", "pk")
        )

    return precompile_queryset(build, CUSTOMER_SAMPLES)


@functools.cache
def _all_notices() -> PrecompiledQuerySet:
    def build(inputs: Inputs) -> QuerySet:
        return (
            AdvanceNotice.objects.filter(customer_id=inputs["customer_id"])
            .select_related("purpose", "version")
            .order_by("claimed_at", "pk")
        )

    return precompile_queryset(build, CUSTOMER_SAMPLES)


def _entries(sent: Iterable[AdvanceNotice], language: str) -> Iterable[HistoryEntry]:
    with translation.override(language):
        by_email = _("per e-mail")
        for notice in sent:
            assert notice.sent_at is not None  # `sent` (a CHECK)
            day = date_format(notice.about_day, "j F Y")
            if notice.reason == EXPIRY:
                what = _("U kreeg bericht dat uw toestemming op %(date)s verloopt") % {"date": day}
            else:
                what = _(
                    "U kreeg bericht dat de tekst op %(date)s op een belangrijk punt verandert"
                ) % {"date": day}
            yield HistoryEntry(
                at=notice.sent_at,
                anchor=f"notice-{notice.pk}",
                title=notice.version.text("title", language),
                what=what,
                how=by_email,
                ended=False,
            )


# --- Retention ---------------------------------------------------------------------------
NOTICES_REMOVED = EffectKind("advance_notices")


def remove_customer_notices(*, customer_id: int, **_signal: Any) -> list[Effect]:
    """`lifecycle.signals.proof_removed`: the customer's history went with their proof of
    consent (retention, after they left), and the log of what they were told goes with it."""
    removed, _by_model = AdvanceNotice.objects.filter(customer_id=customer_id).delete()
    return [NOTICES_REMOVED(removed)] if removed else []


# --- The export ----------------------------------------------------------------------------
def export_sections(
    *, customer: Customer, language: str | None = None, **_signal: Any
) -> list[tuple[str, object]]:
    """`consent.signals.export_sections`: every advance notice, sent or not (GDPR Art. 15)."""
    return [("advance_notices", _notices_for_export(customer, language))]


def _notices_for_export(customer: Customer, language: str | None) -> Iterable[dict[str, Any]]:
    for notice in _all_notices().instances({"customer_id": customer.pk}):
        item: dict[str, Any] = {
            "id": notice.pk,
            "purpose": notice.purpose.code,
            "version": notice.version.version,
            "reason": notice.reason,
            "about": notice.key,
            "about_day": notice.about_day.isoformat(),
            "language": notice.language,
            "status": notice.status,
            "not_sent_because": notice.not_sent_because or None,
            "claimed_at": notice.claimed_at.isoformat(),
            "sent_at": notice.sent_at.isoformat() if notice.sent_at else None,
        }
        if language:
            with translation.override(language):
                title = notice.version.text("title", language)
                day = date_format(notice.about_day, "j F Y")
                item["text"] = (
                    expiry_sentence(title, day)
                    if notice.reason == EXPIRY
                    else text_change_sentence(title, day)
                )
        yield item
