"""The record of processing activities (GDPR Art. 30), generated from the purpose catalogue.

Nothing here is typed in twice: a new purpose or version shows up in the record by itself.
"""

import csv
import datetime as dt
import io

from django.utils import timezone

from consent.choices import current_version

from .channels import CHANNELS
from .models import LEGAL_BASIS_TEXT, Purpose

# Art. 30(1)(g): a general description of the technical and organisational measures.
SECURITY_MEASURES = (
    "Customers' choices are kept in an append-only, hash-chained ledger that the database"
    " refuses to change; the application runs as a database role without UPDATE or DELETE"
    " on it. Offers are computed only from data of customers whose consent is valid, inside"
    " the database; special-category merchant codes are excluded before any feature exists."
    " Staff see no transactions or exact amounts; staff access is by group, with a second"
    " factor. Sessions expire after 15 minutes of inactivity; all traffic is TLS."
)

FIELDS = (
    "purpose",
    "name_nl",
    "name_en",
    "legal_basis",
    "required",
    "contact_channel",
    "data_subjects",
    "data_categories",
    "recipients",
    "transfers_outside_eea",
    "retention_nl",
    "retention_en",
    "dpia_reference",
    "current_version",
    "controller",
    "dpo_contact",
    "security_measures",
)


def processing_record(*, at: dt.datetime | None = None) -> list[dict]:
    """One row per purpose, read from the notice customers are shown now: the same
    fields as the card and the receipt."""
    at = at or timezone.now()
    rows = []
    channel_of = {code: channel for channel, code in CHANNELS.items()}
    for purpose in Purpose.objects.all():
        current = current_version(purpose, at=at)
        if current is None:
            continue
        rows.append(
            {
                "purpose": purpose.code,
                "name_nl": current.title_nl,
                "name_en": current.title_en,
                "legal_basis": LEGAL_BASIS_TEXT[purpose.legal_basis]["en"],
                "required": purpose.required,
                # The channel by which the bank may contact customers about offers under
                # this purpose (`consent.channels`); empty for every other purpose.
                "contact_channel": channel_of.get(purpose.code, ""),
                "data_subjects": "customers (account holders)",
                "data_categories": list(current.data_categories),
                "recipients": current.recipients_en,
                "transfers_outside_eea": "none",
                "retention_nl": current.retention_nl,
                "retention_en": current.retention_en,
                "dpia_reference": purpose.dpia_reference,
                "current_version": current.version,
                "controller": current.controller_en,
                "dpo_contact": current.dpo_contact_en,
                "security_measures": SECURITY_MEASURES,
            }
        )
    return rows


def contact_channels() -> list[dict]:
    """The channels by which the bank contacts customers about offers, and what allows
    each: a purpose on consent (Telecommunicatiewet art. 11.7), or none for the bank's own
    app and website, where offers are shown under the offers' own consents."""
    return [
        *({"channel": channel, "purpose": code} for channel, code in CHANNELS.items()),
        {
            "channel": "app",
            "purpose": None,
            "note": "The bank's own app and website: offers are shown there under the"
            " offers' own consents; no separate consent.",
        },
    ]


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """The cell as text: a leading quote stops a spreadsheet from running it."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def processing_record_csv() -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    for row in processing_record():
        row = {**row, "data_categories": "; ".join(row["data_categories"])}
        writer.writerow({name: neutralised(value) for name, value in row.items()})
    return buffer.getvalue()
