"""The customer's history, line by line, as the page prints it.

Each ledger event becomes an `EventLine` of plain values before the template sees it:
looking up the event's relations and calling filters per line in the template was most
of the page's CPU (issue #24).
"""

import functools
from dataclasses import dataclass

from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .dashboard import HistoryEntry
from .renewals import is_renewal
from .staff import how_recorded
from .wording import day_text


@dataclass(frozen=True, slots=True)
class EventLine:
    """A ledger event as its line on the history shows it. Worked out once per line,
    so that the template prints plain values: its lookups on the event and its relations,
    and its filters and calls per line, were most of the page's CPU (issue #24)."""

    id: int
    datetime: str  # when, in ISO 8601 in the page's time zone (`<time datetime>`)
    when: str  # when, as the `date` filter writes "j F Y, H:i"
    of_when: str  # "van <when>", after each receipt link for screen readers
    action: str
    renewal: bool
    how: str
    # The text the customer read: its title, "Versie 2" and address ("" for none).
    title: str
    version: str
    version_url: str
    receipt_page_url: str
    receipt_url: str


def history_lines(lines, *, viewer_id):
    """`HistoryPage.lines` with each event made an `EventLine`, in the active language
    and time zone."""
    language, zone = translation.get_language(), timezone.get_current_timezone()
    of = _("van %(date)s")
    # Two links a line, each to a path of its own: `reverse` (some 10-30 µs each) once
    # per process, not per line.
    prefix = get_script_prefix()
    receipt_page_url, receipt_url = _by_event("receipt_page", prefix), _by_event("receipt", prefix)
    shown: list[tuple[EventLine | None, HistoryEntry | None]] = []
    for event, entry in lines:
        if event is None:
            shown.append((None, entry))
            continue
        at = event.occurred_at.astimezone(zone)
        title, version, version_url = (
            _text_read(event.purpose_version, language=language, prefix=prefix)
            if event.purpose_version
            else ("", "", "")
        )
        when = day_text(at, language=language, with_time=True)
        line = EventLine(
            id=event.pk,
            datetime=at.isoformat(),
            when=when,
            of_when=of % {"date": when},
            action=event.action,
            renewal=is_renewal(event),
            how=how_recorded(event, customer_user_id=viewer_id),
            title=title,
            version=version,
            version_url=version_url,
            receipt_page_url=receipt_page_url(event.pk),
            receipt_url=receipt_url(event.pk),
        )
        shown.append((line, None))
    return shown


# What a line says of the text read is the same for every customer who read it: kept
# per (version, its publication, page language, script prefix), as `published_texts`
# keeps a card's facts. A stored version never changes (the
# `published_versions_are_immutable` trigger); nothing of a customer is in it.
_TEXTS_READ: dict[tuple, tuple[str, str, str]] = {}


def _text_read(version, *, language, prefix):
    key = (version.pk, version.published_at, language, prefix)
    read = _TEXTS_READ.get(key)
    if read is None:
        if len(_TEXTS_READ) >= 512:
            _TEXTS_READ.clear()
        read = _TEXTS_READ[key] = (
            version.text("title", language),
            _("Versie %(version)s") % {"version": version.version},
            reverse("purpose_version", args=[version.purpose.code, version.version]),
        )
    return read


# An event id no ledger reaches: it stands for the id in a path reversed once.
_STAND_IN = 987654321987654321


@functools.lru_cache(maxsize=64)
def _by_event(name, prefix):
    """`reverse(name, args=[event_id])` for any event id, reversed once per process: the
    path around the id is the same for every id (the prefix is part of the key)."""
    before, after = reverse(name, args=[_STAND_IN]).split(str(_STAND_IN))
    return lambda event_id: f"{before}{int(event_id)}{after}"
