"""The record of processing activities (GDPR Art. 30), generated from the purpose catalogue.

Nothing here is typed in twice: a new purpose or version shows up in the record by itself.
"""

import csv
import io

from django.conf import settings

from .models import LegalBasis, Purpose

FIELDS = (
    "purpose",
    "name_nl",
    "name_en",
    "legal_basis",
    "required",
    "data_subjects",
    "data_categories",
    "recipients",
    "transfers_outside_eea",
    "retention_nl",
    "retention_en",
    "dpia_reference",
    "current_version",
    "controller",
)


def processing_record() -> list[dict]:
    rows = []
    purposes = Purpose.objects.prefetch_related("versions")
    for purpose in purposes:
        current = max(purpose.versions.all(), key=lambda v: v.version)
        rows.append(
            {
                "purpose": purpose.code,
                "name_nl": current.title_nl,
                "name_en": current.title_en,
                "legal_basis": str(LegalBasis(purpose.legal_basis).label),
                "required": purpose.required,
                "data_subjects": "customers (account holders)",
                "data_categories": purpose.data_categories,
                "recipients": purpose.recipients,
                "transfers_outside_eea": "none",
                "retention_nl": purpose.retention_nl,
                "retention_en": purpose.retention_en,
                "dpia_reference": purpose.dpia_reference,
                "current_version": current.version,
                "controller": settings.CONSENT_CONTROLLER["name"],
            }
        )
    return rows


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
