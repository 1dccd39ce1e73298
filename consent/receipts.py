"""Consent receipts: one JSON document per ledger event (DESIGN §5).

The fields follow the Kantara Initiative Consent Receipt Specification 1.1. Kantara has
no field for some of what DESIGN §5 asks (the action, the legal basis, the notice version
and hash, the ledger hash); they follow the Kantara fields, so that a receipt proves
which exact text the customer was shown and where the event sits in the hash chain.
"""

from django.conf import settings

from .models import Action, ConsentEvent, LegalBasis

KANTARA_VERSION = "KI-CR-v1.1.0"


def consent_receipt(event: ConsentEvent, *, policy_url: str) -> dict:
    purpose = event.purpose
    version = event.purpose_version
    language = event.notice_language
    controller = settings.CONSENT_CONTROLLER
    return {
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
                "piiController": controller["name"],
                "contact": controller["contact"],
                "address": controller["address"],
                "email": controller["contact"],
                "phone": controller.get("phone", ""),
            }
        ],
        "policyUrl": policy_url,
        "services": [
            {
                "service": purpose.code,
                "purposes": [
                    {
                        "purpose": version.text("title", language),
                        "purposeCategory": [purpose.code],
                        "consentType": "EXPLICIT",
                        "piiCategory": list(purpose.data_categories),
                        "primaryPurpose": purpose.required,
                        "termination": purpose.retention_en
                        if language == "en"
                        else purpose.retention_nl,
                        "thirdPartyDisclosure": False,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        # Beyond Kantara 1.1: what happened, on which basis, to which exact text.
        "action": event.action,
        "consentGiven": event.action == Action.GRANTED,
        "legalBasis": purpose.legal_basis,
        "legalBasisText": str(LegalBasis(purpose.legal_basis).label),
        "noticeVersion": version.version,
        "noticeSha256": event.notice_sha256,
        "ledgerSequence": event.sequence,
        "ledgerPreviousHash": event.previous_hash,
        "ledgerHash": event.hash,
    }
