"""What the consent app keeps about the ledger, checked when the ledger is verified
(a receiver of `ledger.signals.audit`): the current state mirrors the latest event per
customer and purpose, and every notice hash in the ledger is the hash of a text that was
published (a purpose version in the language the event names, or one of the
statements of `consent.catalogue`)."""

from typing import Any

from django.db import connection

from ledger.models import ACCESS_ACTIONS, STATELESS_ACTIONS, ConsentEvent

from .catalogue import statement_with_hash
from .models import ConsentState, Customer, PurposeVersion


def check_ledger(**_kwargs: Any) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for number in state_mismatches():
        problems.setdefault(number, []).append("current state differs from the ledger")
    for number, reason in unknown_notices().items():
        problems.setdefault(number, []).append(reason)
    return problems


# The latest event per customer and purpose (the objection: purpose NULL), leaving out
# erasure requests, departures and third parties' access, which change no choice (as the
# state-mirror trigger does).
STATE_MISMATCH_SQL = """
WITH last AS (
    SELECT DISTINCT ON (customer_id, purpose_id)
           id, customer_id, purpose_id, action, purpose_version_id, occurred_at
      FROM {event}
     WHERE action NOT IN ({stateless})
  ORDER BY customer_id, purpose_id, sequence DESC
)
SELECT c.customer_number
  FROM last l
  FULL JOIN {state} s
    ON s.customer_id = l.customer_id AND s.purpose_id IS NOT DISTINCT FROM l.purpose_id
  JOIN {customer} c ON c.id = COALESCE(l.customer_id, s.customer_id)
 WHERE s.id IS NULL OR l.id IS NULL
    OR s.event_id <> l.id OR s.state <> l.action
    OR s.purpose_version_id IS DISTINCT FROM l.purpose_version_id
    OR s.changed_at <> l.occurred_at
 GROUP BY c.customer_number
"""


def state_mismatches() -> list[str]:
    """Customer numbers whose ConsentState differs from the last event per purpose."""
    sql = STATE_MISMATCH_SQL.format(
        event=ConsentEvent._meta.db_table,
        state=ConsentState._meta.db_table,
        customer=Customer._meta.db_table,
        stateless=", ".join(f"'{action.value}'" for action in STATELESS_ACTIONS),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [number for (number,) in cursor.fetchall()]


def unknown_notices() -> dict[str, str]:
    """Customer number -> the first event whose notice hash is not that of the text it
    names. Set-based: the distinct (version, language, hash) triples are few, so each is
    recomputed once and only the events of a wrong one are looked up."""
    triples = (
        # A third party's access names its permission's own text: `access.audit` checks it.
        ConsentEvent.objects.exclude(action__in=ACCESS_ACTIONS)
        .values_list("purpose_version_id", "notice_language", "notice_sha256", "action")
        .order_by()
        .distinct()
    )
    versions = PurposeVersion.objects.select_related("purpose").in_bulk()
    wrong: list[tuple[int | None, str, str]] = []
    for version_id, language, sha256, action in triples:
        if version_id is None:
            known = statement_with_hash(action, language, sha256) is not None
        else:
            known = versions[version_id].notice_sha256(language) == sha256
        if not known:
            wrong.append((version_id, language, sha256))
    found: dict[str, str] = {}
    for wrong_version, wrong_language, wrong_sha256 in wrong:
        events = (
            ConsentEvent.objects.filter(
                purpose_version_id=wrong_version,
                notice_language=wrong_language,
                notice_sha256=wrong_sha256,
            )
            .select_related("customer")
            .order_by("pk")
        )
        for event in events:
            found.setdefault(
                event.customer.customer_number,
                f"event {event.pk}: notice hash is not that of the text it names",
            )
    return found
