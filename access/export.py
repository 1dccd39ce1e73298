"""The customer's export (`consent.signals.export_sections`): every data user they were
asked by, what it may read or might have, the text they approved, and every read."""

import datetime as dt
import functools
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import translation

from consent.models import Customer
from infra.precompiled import CUSTOMER_SAMPLES, Inputs, PrecompiledQuerySet, precompile_queryset

from .gate import status_of
from .models import Permission, PermissionStatus, Read


def export_sections(
    *, customer: Customer, language: str | None = None, **_signal: Any
) -> list[tuple[str, object]]:
    return [("third_party_access", _permissions(customer, language))]


def _permissions(customer: Customer, language: str | None):
    now = dt.datetime.now(dt.UTC)
    for permission in _customers_permissions().instances({"customer_id": customer.pk}):
        item: dict[str, object] = {
            "consent_id": str(permission.consent_id),
            "data_user": {
                "name": permission.data_user.name,
                "registration_number": permission.data_user.registration_number,
                "country": permission.data_user.country,
            },
            "status": status_of(permission, at=now),
            "accounts": [pa.account.iban for pa in permission.accounts.all()],
            "balances": permission.balances,
            "transactions": permission.transactions,
            "valid_until": permission.valid_until.isoformat(),
            "frequency_per_day": permission.frequency_per_day,
            "reason": permission.reason,
            "requested_at": _iso(permission.requested_at),
            "decided_at": _iso(permission.decided_at),
            "ended_at": _iso(permission.ended_at),
            "ended_by": permission.ended_by or None,
            "text": permission.text or None,
            "text_version": permission.text_version,
            "text_sha256": permission.text_sha256 or None,
            "reads": [
                {
                    "read_at": _iso(read.read_at),
                    "what": read.kind,
                    "account": read.account.account.iban if read.account else None,
                    "date_from": read.date_from.isoformat() if read.date_from else None,
                    "date_to": read.date_to.isoformat() if read.date_to else None,
                    "rows": read.rows,
                }
                for read in permission.reads.all()
            ],
        }
        if language:
            with translation.override(language):
                item["status_text"] = str(
                    dict(PermissionStatus.choices).get(permission.status, permission.status)
                )
        yield item


@functools.cache
def _customers_permissions() -> PrecompiledQuerySet:
    """One query, its SQL compiled once per process (`infra.precompiled`: compiling the
    export's querysets on every request was about a third of its CPU, issue #24), and two
    more when there is anything: the accounts and the reads."""

    def build(inputs: Inputs) -> QuerySet:
        return (
            Permission.objects.filter(customer_id=inputs["customer_id"])
            .select_related("data_user")
            .prefetch_related(
                "accounts__account",
                Prefetch(
                    "reads",
                    queryset=Read.objects.select_related("account__account").order_by(
                        "read_at", "pk"
                    ),
                ),
            )
            .order_by("requested_at", "pk")
        )

    return precompile_queryset(build, CUSTOMER_SAMPLES)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment else None
