"""Consent receipts: one JSON document per ledger event.

The fields follow the Kantara Initiative Consent Receipt Specification 1.1. Kantara has
no field for some of what the ledger proves (the action, the legal basis, the notice
version and hash, the ledger hash); they follow the Kantara fields, so that a receipt
proves which exact text the customer was shown and where the event sits in the hash
chain. Everything the customer was told (data, retention, recipients, controller, DPO)
comes from the published version the event points to: the same fields the card showed.
"""

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse

from infra.languages import text_language
from ledger.models import Action, ConsentEvent
from ledger.proofs import Proof, prove

from .catalogue import (
    CONTROLLER_EN,
    CONTROLLER_NL,
    DPO_CONTACT_EN,
    DPO_CONTACT_NL,
    statement_with_hash,
)
from .models import LEGAL_BASIS_TEXT

KANTARA_VERSION = "KI-CR-v1.1.0"


def consent_receipt(
    event: ConsentEvent,
    *,
    policy_url: str,
    proof: Proof | None = None,
    same_text: dict[tuple, tuple] | None = None,
) -> dict:
    """`same_text`: for a caller that makes many receipts (the export), a dict it keeps
    across calls: the parts that come from the event's text alone are made once per
    text and language (they were a third of a receipt's CPU, issue #24), so those
    receipts share them: read them, never change them."""
    language = event.notice_language
    if event.purpose is None or same_text is None:
        parts = _text_parts(event, language)
    else:
        key = (event.purpose_version_id, language)
        if key not in same_text:
            same_text[key] = _text_parts(event, language)
        parts = same_text[key]
    controller, dpo, email, services, basis = parts
    receipt = {
        "version": KANTARA_VERSION,
        "jurisdiction": settings.CONSENT_JURISDICTION,
        # Kantara's timestamp is whole seconds since the epoch, in UTC.
        "consentTimestamp": int(event.occurred_at.timestamp()),
        "collectionMethod": event.channel,
        "consentReceiptID": str(event.receipt_id),
        "language": language,
        "piiPrincipalId": event.customer.customer_number,
        "piiControllers": [
            {
                "piiController": controller,
                "contact": dpo,
                "address": controller,
                "email": email,
                "phone": "",
            }
        ],
        "policyUrl": policy_url,
        "services": services,
        "sensitive": False,
        "spiCat": [],
        # Beyond Kantara 1.1: what happened, on which basis, to which exact text.
        "action": event.action,
        "consentGiven": event.action == Action.GRANTED,
        "noticeSha256": event.notice_sha256,
        "ledgerSequence": event.sequence,
        "ledgerPreviousHash": event.previous_hash,
        "ledgerHash": event.hash,
        **basis,
        # Beyond Kantara: the event's place in the transparency log and the path to a
        # signed, witnessed checkpoint (`python -m ledger.verify receipt`).
        "proof": proof if proof is not None else prove(event),
    }
    return receipt


def _text_parts(event: ConsentEvent, language: str) -> tuple:
    """(controller, DPO contact, its e-mail address, services, legal basis) of the
    event's text: its version's, or for an event about no purpose, the statement's."""
    basis: dict[str, object]  # the legal basis, and which notice or statement
    if event.purpose is None:
        controller, dpo = (
            (CONTROLLER_EN, DPO_CONTACT_EN)
            if language == "en"
            else (
                CONTROLLER_NL,
                DPO_CONTACT_NL,
            )
        )
        statement = STATEMENT_OF.get(event.action, OBJECTION)
        services = [_statement_service(statement, language)]
        basis = {
            "legalBasis": statement.legal_basis,
            "notice": statement_with_hash(event.action, language, event.notice_sha256),
        }
    else:
        version = event.purpose_version
        assert version is not None  # a choice about a purpose names its version (event_shape)
        controller, dpo = (
            version.text("controller", language),
            version.text("dpo_contact", language),
        )
        services = [_purpose_service(event, language)]
        basis = {
            "legalBasis": event.purpose.legal_basis,
            "legalBasisText": LEGAL_BASIS_TEXT[event.purpose.legal_basis][language],
            "noticeVersion": version.version,
        }
    return controller, dpo, _email_in(dpo), services, basis


# An export makes a receipt per event, all naming one of a few contact texts: the search
# was a quarter of a receipt's CPU (issue #24), so it is done once per text.
@functools.lru_cache(maxsize=64)
def _email_in(text: str) -> str:
    """The e-mail address inside a contact text: one source for the card and the receipt."""
    found = re.search(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", text)
    return found.group(0) if found else ""


def _purpose_service(event, language) -> dict:
    purpose, version = event.purpose, event.purpose_version
    return {
        "service": purpose.code,
        "purposes": [
            {
                "purpose": version.text("title", language),
                "purposeCategory": [purpose.code],
                "consentType": "EXPLICIT",
                "piiCategory": list(version.data_categories),
                "primaryPurpose": purpose.required,
                "termination": version.text("retention", language),
                "thirdPartyDisclosure": False,
                "recipients": version.text("recipients", language),
            }
        ],
    }


@dataclass(frozen=True)
class Statement:
    """An event about no purpose (its notice is a statement), as a receipt's service."""

    service: str
    purpose: dict[str, str]  # per language
    pii_categories: tuple[str, ...]
    legal_basis: str
    category: str = "direct_marketing"
    # The data goes to another party (a third party's access).
    disclosed: bool = False


# The objection (and its lifting): GDPR Art. 21(2).
OBJECTION = Statement(
    service="direct_marketing",
    purpose={"nl": "Bezwaar tegen direct marketing", "en": "Objection to direct marketing"},
    pii_categories=(),
    legal_basis="objection_art_21_2",
)
# GDPR Art. 17: what was erased is what the statement in `notice` says.
ERASURE = Statement(
    service="erasure_of_offers",
    purpose={
        "nl": "Verwijdering van wat persoonlijke aanbiedingen opleverden",
        "en": "Erasure of what personal offers produced",
    },
    pii_categories=("offers", "offer_answers", "data_use_log"),
    legal_basis="erasure_art_17",
)
# The relationship ended: every consent withdrawn, retention counted from this event.
LEFT = Statement(
    service="relationship_end",
    purpose={"nl": "Einde van de klantrelatie", "en": "End of the customer relationship"},
    pii_categories=(),
    legal_basis="relationship_end",
)
# A data user (PSD2 account information, FiDA) may read the customer's payment accounts,
# or no longer: the exact text approved is the permission's (`access.receipts` puts it in
# the receipt as `notice`); its SHA-256 is the event's.
THIRD_PARTY_ACCESS = Statement(
    service="third_party_access",
    purpose={
        "nl": "Toegang van een andere partij tot uw betaalrekeningen",
        "en": "Access by another party to your payment accounts",
    },
    pii_categories=("account_details", "balances", "transactions"),
    legal_basis="psd2_art_67_explicit_consent",
    category="third_party_access",
    disclosed=True,
)
STATEMENT_OF: dict[str, Statement] = {
    Action.ACCESS_GRANTED: THIRD_PARTY_ACCESS,
    Action.ACCESS_WITHDRAWN: THIRD_PARTY_ACCESS,
    Action.OBJECTED: OBJECTION,
    Action.OBJECTION_LIFTED: OBJECTION,
    Action.ERASURE_REQUESTED: ERASURE,
    Action.LEFT: LEFT,
}


def _statement_service(statement: Statement, language: str) -> dict:
    return {
        "service": statement.service,
        "purposes": [
            {
                "purpose": statement.purpose[text_language(language)],
                "purposeCategory": [statement.category],
                "consentType": "EXPLICIT",
                "piiCategory": list(statement.pii_categories),
                "primaryPurpose": False,
                "termination": "",
                "thirdPartyDisclosure": statement.disclosed,
            }
        ],
    }


def policy_url(request, event: ConsentEvent) -> str:
    """Where the text of an event is, as an absolute URL: its version's page, or the
    dashboard for an objection (whose statement is in the receipt itself). The same on
    the website, in the app's API and for staff."""
    if event.purpose is None:
        return request.build_absolute_uri(reverse("dashboard"))
    assert event.purpose_version is not None  # a choice about a purpose names its version
    return request.build_absolute_uri(
        reverse("purpose_version", args=[event.purpose.code, event.purpose_version.version])
    )


def receipt_download(request, event: ConsentEvent) -> JsonResponse:
    """The event's consent receipt as the JSON file a customer downloads."""
    response = JsonResponse(
        consent_receipt(event, policy_url=policy_url(request, event)),
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
    response["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{event.receipt_id}.json"'
    )
    return response
