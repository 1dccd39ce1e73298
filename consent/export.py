"""The customer's data export, `/export.json` (README, /export.json; GDPR Art. 15 and 20).

`consent` owns the profile, the choices and the history. Other apps add their own
sections without `consent` importing them: a receiver of `signals.export_sections`
returns `[(name, iterable), …]`, and the export streams each iterable item by item
(`stream_export`), so no section is ever all in memory (return a generator: it is read
only when its turn comes). Sections the design promises are always present, as an empty
list when no app fills them.

The JSON keeps machine formats (codes, ISO 8601 in UTC, amounts as decimal strings): it is
the portable copy (Art. 20). The page `/export/read/` is the same data for people: the
signal then carries `language`, and each app adds names next to its codes in that
language (`product_name`, `country_name`, …); the template formats times, dates and
amounts for the language (`consent_tags`: `moment`, `day`, `money`).
"""

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils import timezone

from infra.effects import answers
from infra.precompiled import Inputs, Precompiled, precompile
from ledger.models import ConsentEvent
from ledger.proofs import prove_many

from . import signals
from .dashboard import Dashboard, customer_dashboard, customer_events
from .models import StaffAction
from .receipts import consent_receipt

# Keys that consent fills itself; an app cannot replace them.
OWN_KEYS = (
    "customer_number",
    "exported_at",
    "profile",
    "objection",
    "choices",
    "history",
    "receipts",
)
# Keys the format promises even before any app fills them.
PROMISED_SECTIONS = (
    "offers",
    "accounts",
    "holdings",
    "transactions",
    "data_use",
    "linked_apps",
)
# The streamed file is written in pieces of about this many characters.
STREAM_BUFFER = 64 * 1024
# A section's value: a JSON object, a string, null, or any other iterable (an array).
SectionValue = dict[str, Any] | str | None | Iterable[Any]


def app_sections(customer, *, language: str | None = None) -> dict[str, Iterable[Any]]:
    """What the other apps add to the export (`signals.export_sections`), by name.
    `language`: for the page to read, names in that language next to the codes."""
    sections: dict[str, Iterable[Any]] = {}
    for name, items in answers(signals.export_sections, customer=customer, language=language):
        if name in OWN_KEYS or name in sections:
            raise ValueError(f"export section {name!r} is already taken")
        sections[name] = items
    return sections


def iso_utc(moment: dt.datetime | None) -> str | None:
    """A moment as the export writes it: ISO 8601 in UTC (None stays null)."""
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def export_sections(
    customer,
    *,
    at: dt.datetime,
    policy_url: Callable = lambda event: "",
    page: Dashboard | None = None,
    language: str | None = None,
) -> Iterator[tuple[str, SectionValue]]:
    """(key, value) in the document's order. A value that is a list or another iterable
    is a JSON array whose items are produced one at a time. `policy_url(event)` is the
    receipt's link to the text (absolute, from the request). `page`: the customer's
    cards at `at` when the caller has read them already (the export uses no text of
    them, only codes, states and dates, so any language will do). `language`: the page's
    language when the export is shown as a page (apps add names), else None (JSON)."""
    if page is None:
        page = customer_dashboard(customer, language="en", at=at)
    yield "customer_number", customer.customer_number
    yield "exported_at", iso_utc(at)
    yield (
        "profile",
        {
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "email": customer.email,
            "phone": customer.phone,
            "birth_date": customer.birth_date.isoformat() if customer.birth_date else None,
            "language": customer.language,
            # The day the customer relationship ended (null while it lasts).
            "closed_on": customer.closed_on.isoformat() if customer.closed_on else None,
            # Set when a restore lost choices made after this moment, until the next choice.
            "choices_lost_since": iso_utc(customer.choices_lost_since),
        },
    )
    yield (
        "objection",
        {
            "active": True,
            "since": iso_utc(page.objection.since),
            "event_id": page.objection.state.event_id,
        }
        if page.objection
        else {"active": False},
    )
    yield (
        "choices",
        [
            {
                "purpose": card.code,
                "state": card.state.state if card.state else "not_set",
                "valid": card.is_valid,
                "version": card.state.purpose_version.version
                if card.state and card.state.purpose_version
                else None,
                "changed_at": iso_utc(card.state.changed_at) if card.state else None,
            }
            # Required purposes are not a choice; the export lists what the customer decides.
            for card in page.choices
        ],
    )
    # The history and the receipts are of the same events: read once, when first needed.
    read: list[list[ConsentEvent]] = []

    def events() -> list[ConsentEvent]:
        if not read:
            read.append(customer_events(customer))
        return read[0]

    yield "history", _history(customer, events)
    yield "receipts", _receipts(events, policy_url)
    added = app_sections(customer, language=language)
    for name in PROMISED_SECTIONS:
        if name not in added:
            yield name, []
    yield from added.items()


def _history(customer, events: Callable[[], list[ConsentEvent]]) -> Iterator[dict]:
    # The ledger's own order: oldest first, as the chain runs.
    staff_actions = {
        event_id: (channel, identity_checked, note, recorded_at)
        for event_id, channel, identity_checked, note, recorded_at in _staff_actions(customer)
    }
    # Each attribute read once: `pk` and a relation are descriptors, and this runs for
    # every event of the customer (issue #24).
    for event in events():
        event_id, purpose, version = event.id, event.purpose, event.purpose_version
        action = staff_actions.get(event_id)
        yield {
            "id": event_id,
            "purpose": purpose.code if purpose else None,
            "action": event.action,
            "at": iso_utc(event.occurred_at),
            "channel": event.channel,
            "version": version.version if version else None,
            "notice_sha256": event.notice_sha256,
            # A choice a staff member recorded at the customer's request (by phone or in a
            # branch): what the ledger has no field for. Staff are not named: the bank is.
            "staff_action": {
                "channel": action[0],
                "identity_checked": action[1],
                "note": action[2],
                "recorded_at": iso_utc(action[3]),
            }
            if action
            else None,
        }


def _staff_actions(customer) -> list[tuple[Any, ...]]:
    """(event id, channel, identity checked, note, recorded at) of every staff action on
    the customer's events: `StaffAction.objects.filter(event__customer=customer)`, its
    SQL compiled once per process."""
    return _staff_actions_query().rows({"customer_id": customer.pk})


@functools.cache
def _staff_actions_query() -> Precompiled:
    def build(inputs: Inputs) -> QuerySet[StaffAction, Any]:
        return StaffAction.objects.filter(event__customer_id=inputs["customer_id"]).values_list(
            "event_id", "channel", "identity_checked", "note", "recorded_at"
        )

    return precompile(build, ({"customer_id": -7_000_001}, {"customer_id": -7_000_002}))


def _receipts(events: Callable[[], list[ConsentEvent]], policy_url: Callable) -> Iterator[dict]:
    chain = events()
    proofs = prove_many(chain)
    # The link to an event's text depends on the text alone (`receipts.policy_url`):
    # made once per version in this export, not once per event.
    urls: dict[tuple[Any, Any], str] = {}
    same_text: dict[tuple, tuple] = {}
    for event in chain:
        text = (event.purpose_id, event.purpose_version_id)
        if text not in urls:
            urls[text] = policy_url(event)
        yield consent_receipt(
            event, policy_url=urls[text], proof=proofs[event.id], same_text=same_text
        )


def customer_export(
    customer, *, at: dt.datetime | None = None, leave_out: tuple[str, ...] = (), **kwargs
) -> dict:
    """The whole export as one dict (for code and tests; the download streams), without
    the sections in `leave_out` (never read)."""
    at = at or timezone.now()
    return {
        key: value if isinstance(value, dict | str | None) else list(value)
        for key, value in export_sections(customer, at=at, **kwargs)
        if key not in leave_out
    }


def _dumps(value) -> str:
    return _ENCODER.encode(value)


# What `json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)` makes anew for each
# of an export's items (the encoder keeps no state between calls): made once.
# No check for circular references: the items are new dicts and lists each time (receipts
# share some, never one inside itself), and the check is a tenth of the encoding's time.
_ENCODER = DjangoJSONEncoder(ensure_ascii=False, check_circular=False)


def stream_export(customer, *, at: dt.datetime | None = None, **kwargs) -> Iterator[str]:
    """The export as JSON text, in pieces: one line per array item, never the whole
    document (nor a whole section) in memory."""
    at = at or timezone.now()
    buffer: list[str] = []
    size = 0

    def write(text):
        nonlocal size
        buffer.append(text)
        size += len(text)

    write("{")
    for n, (key, value) in enumerate(export_sections(customer, at=at, **kwargs)):
        write(("\n" if n == 0 else ",\n") + f"  {_dumps(key)}: ")
        if isinstance(value, Iterable) and not isinstance(value, dict | str):
            count = 0
            write("[")
            for item in value:
                write(("\n    " if count == 0 else ",\n    ") + _dumps(item))
                count += 1
                if size >= STREAM_BUFFER:
                    yield "".join(buffer)
                    buffer.clear()
                    size = 0
            write("\n  ]" if count else "]")
        else:
            write(_dumps(value))
    write("\n}\n")
    yield "".join(buffer)


def readable_export(customer, *, language: str, at: dt.datetime | None = None) -> dict:
    """The export for `/export/read/`: the same data, with names next to codes in the
    page's language: each purpose's title, and what the other apps add (products,
    account kinds, countries, statuses). People read names, not codes."""
    at = at or timezone.now()
    page = customer_dashboard(customer, language=language, at=at)
    # The page shows no receipts (each has its own page, linked from the history).
    data = customer_export(customer, at=at, page=page, leave_out=("receipts",), language=language)
    titles = {card.code: card.title for card in page.cards}
    for section in ("choices", "history", "data_use"):
        for item in data[section]:
            item["title"] = titles.get(item["purpose"], item["purpose"])
    return data
