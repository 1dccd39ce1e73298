"""What the API says, field by field. Output serializers only read what the domain
returns (`consent.dashboard.Card`, ledger events, `offers.customer.ShownOffer`, the
export); input serializers only check the shape of a request. No rule lives here."""

import datetime as dt

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consent import validity
from consent.catalogue import statement_sha256
from consent.choices import CHOICES
from consent.models import LegalBasis
from consent.receipts import STATEMENT_OF
from consent.renewals import is_renewal
from ledger.models import Action, Channel
from offers.customer import ANSWERS

from .models import ChangeKind


class UtcDateTimeField(serializers.DateTimeField):
    """A moment in the API's answers: UTC, written with `Z` (RFC 3339), whatever the
    site's time zone. Only the API's own fields: the receipts (signed) and the export
    (the same document as the website's) keep their form."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", dt.UTC)
        super().__init__(**kwargs)


# --- Errors ------------------------------------------------------------------------------------
class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details (`application/problem+json`); the types are listed at
    /api/v1/problems/."""

    type = serializers.URLField(
        help_text="The problem type: https://<this host>/api/v1/problems/<slug>, a stable URI"
        " that describes it."
    )
    title = serializers.CharField(help_text="The type's short title, in the request's language.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong here, in the request's language.")
    instance = serializers.CharField(help_text="The path of the request.")

    class Meta:
        ref_name = "Problem"


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        help_text="The field or parameter (`a.b`, `a[0]`), or `non_field_errors`."
    )
    code = serializers.CharField(help_text="What kind of error: `required`, `invalid`, …")
    message = serializers.CharField(help_text="What is wrong, in the request's language.")


class ValidationProblemSerializer(ProblemSerializer):
    """`invalid-input` lists each field's problem in `errors`; `malformed-body` has none."""

    errors = FieldErrorSerializer(many=True, required=False)

    class Meta:
        ref_name = "ValidationProblem"


REFUSAL_REASONS = (
    "stale_notice",
    "too_young",
    "objection_stands",
    "required_purpose",
    "customer_closed",
    "no_objection",
    "refused",
)
OFFER_REASONS = ("offer_not_open",)


# --- Cards -------------------------------------------------------------------------------------
class StateSerializer(serializers.Serializer):
    """The customer's current choice for a purpose, as recorded."""

    choice = serializers.ChoiceField(
        source="state", choices=[Action.GRANTED.value, Action.WITHDRAWN.value]
    )
    version = serializers.IntegerField(source="purpose_version.version")
    changed_at = UtcDateTimeField()
    event_id = serializers.IntegerField()


class CardSerializer(serializers.Serializer):
    """One purpose as the customer's dashboard shows it, texts in the customer's language.

    `version` and `notice_sha256` identify the text shown: a grant sends them back.
    """

    code = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    data_used = serializers.CharField()
    data_categories = serializers.ListField(
        source="version.data_categories", child=serializers.CharField()
    )
    retention = serializers.CharField()
    recipients = serializers.CharField()
    controller = serializers.CharField()
    dpo_contact = serializers.CharField()
    legal_basis = serializers.ChoiceField(source="purpose.legal_basis", choices=LegalBasis.values)
    required = serializers.BooleanField(source="purpose.required")
    direct_marketing = serializers.BooleanField(source="purpose.direct_marketing")
    language = serializers.CharField()
    version = serializers.IntegerField(source="version.version")
    notice_sha256 = serializers.CharField()
    notice_text = serializers.SerializerMethodField(
        help_text="The exact text whose SHA-256 is `notice_sha256`."
    )
    state = StateSerializer(allow_null=True)
    valid = serializers.BooleanField(source="is_valid")
    invalid_because = serializers.ChoiceField(
        choices=[
            validity.MATERIAL_CHANGE,
            validity.EXPIRED,
            validity.TOO_YOUNG,
            validity.GIVEN_UNDER_16,
            validity.OBJECTION,
        ],
        allow_null=True,
        help_text="Why a granted consent does not count now; null otherwise.",
    )
    valid_until = serializers.DateField(
        allow_null=True, help_text="The last day the consent counts, unless renewed."
    )
    needs_choice = serializers.BooleanField(
        help_text="Granted once, no longer valid: ask the customer to choose again."
    )
    may_grant = serializers.BooleanField()
    too_young_until = serializers.DateField(
        allow_null=True, help_text="For a customer under 16: the day they may choose."
    )
    blocked_by_objection = serializers.BooleanField()

    def get_notice_text(self, card) -> str:
        return card.version.notice_text(card.language)


class StatementSerializer(serializers.Serializer):
    text = serializers.CharField()
    sha256 = serializers.CharField()


class ObjectionSerializer(serializers.Serializer):
    """The customer's objection to direct marketing (GDPR Art. 21(2)), while it stands."""

    since = UtcDateTimeField()
    event_id = serializers.IntegerField(source="state.event_id")
    lift = serializers.SerializerMethodField()

    @extend_schema_field(StatementSerializer)
    def get_lift(self, objection) -> dict:
        return {"text": objection.lift_text, "sha256": objection.lift_sha256}


class DashboardSerializer(serializers.Serializer):
    language = serializers.CharField()
    objection = ObjectionSerializer(allow_null=True)
    stop_all = serializers.SerializerMethodField(
        help_text="The statement next to 'stop all personal offers'."
    )
    purposes = CardSerializer(source="cards", many=True)

    @extend_schema_field(StatementSerializer)
    def get_stop_all(self, dashboard) -> dict:
        return {
            "text": dashboard.stop_all_text,
            "sha256": statement_sha256(Action.OBJECTED, dashboard.language),
        }


# --- Ledger events ---------------------------------------------------------------------------
class EventSerializer(serializers.Serializer):
    """One event of the customer's ledger."""

    id = serializers.IntegerField()
    receipt_id = serializers.UUIDField()
    purpose = serializers.CharField(source="purpose.code", allow_null=True, default=None)
    action = serializers.ChoiceField(choices=Action.values)
    occurred_at = UtcDateTimeField()
    channel = serializers.ChoiceField(choices=Channel.values)
    version = serializers.IntegerField(
        source="purpose_version.version", allow_null=True, default=None
    )
    notice_language = serializers.CharField()
    notice_sha256 = serializers.CharField()
    sequence = serializers.IntegerField()
    hash = serializers.CharField()
    renewal = serializers.SerializerMethodField(
        help_text="A grant on the version of a consent that still counted: it counts from"
        " this event on (the ledger records it as `granted`)."
    )

    def get_renewal(self, event) -> bool:
        return is_renewal(event)


# --- The receipt (documentation: the body is `consent.receipts.consent_receipt`) ---------------
class ReceiptControllerSerializer(serializers.Serializer):
    piiController = serializers.CharField()
    contact = serializers.CharField()
    address = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField(allow_blank=True)


class ReceiptPurposeSerializer(serializers.Serializer):
    purpose = serializers.CharField(help_text="The purpose's title, in the notice's language.")
    purposeCategory = serializers.ListField(child=serializers.CharField())
    consentType = serializers.CharField()
    piiCategory = serializers.ListField(child=serializers.CharField())
    primaryPurpose = serializers.BooleanField()
    termination = serializers.CharField(allow_blank=True)
    thirdPartyDisclosure = serializers.BooleanField()
    recipients = serializers.CharField(required=False)


class ReceiptServiceSerializer(serializers.Serializer):
    service = serializers.CharField()
    purposes = ReceiptPurposeSerializer(many=True)


class ProofSerializer(serializers.Serializer):
    """Where the event is in the transparency log (`python -m ledger.verify receipt`)."""

    status = serializers.ChoiceField(
        choices=["included", "pending"],
        help_text="`pending`: not yet in a signed checkpoint (minutes); ask again later.",
    )
    entry = serializers.CharField(help_text="The event as the log's leaf holds it (RFC 8785).")
    leafIndex = serializers.IntegerField(required=False)
    treeSize = serializers.IntegerField(required=False)
    inclusionProof = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Base64 hashes, RFC 9162."
    )
    checkpoint = serializers.CharField(
        required=False, help_text="The signed, cosigned checkpoint (a C2SP signed note)."
    )


class ReceiptSerializer(serializers.Serializer):
    """A consent receipt: the Kantara Consent Receipt 1.1 fields, then what the ledger
    proves (action, text, chain) and the proof in the transparency log."""

    version = serializers.CharField()
    jurisdiction = serializers.CharField()
    consentTimestamp = serializers.IntegerField(help_text="Seconds since 1970, UTC.")
    collectionMethod = serializers.ChoiceField(choices=Channel.values)
    consentReceiptID = serializers.UUIDField()
    language = serializers.CharField()
    piiPrincipalId = serializers.CharField(help_text="The customer number.")
    piiControllers = ReceiptControllerSerializer(many=True)
    policyUrl = serializers.URLField()
    services = ReceiptServiceSerializer(many=True)
    sensitive = serializers.BooleanField()
    spiCat = serializers.ListField(child=serializers.CharField())
    action = serializers.ChoiceField(choices=Action.values)
    consentGiven = serializers.BooleanField()
    noticeSha256 = serializers.CharField()
    ledgerSequence = serializers.IntegerField()
    ledgerPreviousHash = serializers.CharField()
    ledgerHash = serializers.CharField()
    legalBasis = serializers.ChoiceField(
        choices=[*LegalBasis.values, *sorted({s.legal_basis for s in STATEMENT_OF.values()})]
    )
    legalBasisText = serializers.CharField(
        required=False, help_text="About a purpose: the basis in words."
    )
    noticeVersion = serializers.IntegerField(required=False, help_text="About a purpose.")
    notice = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="About no purpose (an objection, leaving): the statement read, whose hash is"
        " `noticeSha256`.",
    )
    proof = ProofSerializer()


class HistorySerializer(serializers.Serializer):
    events = EventSerializer(many=True, help_text="Newest first.")


class ChoiceRequestSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=list(CHOICES))
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version of the text shown (required for a grant).",
    )
    notice_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        required=False,
        allow_blank=True,
        help_text="The SHA-256 of the text shown, from its card (required for a grant).",
    )


class ChoiceResultSerializer(serializers.Serializer):
    events = EventSerializer(many=True, help_text="Empty when `unchanged`.")
    renewed = serializers.BooleanField(
        help_text="A grant on the version of a consent that still counted: recorded as a"
        " renewal, so it counts from now."
    )
    unchanged = serializers.BooleanField(
        help_text=(
            "True when the withdrawal was already what is stored (the purpose was off):"
            " nothing was written."
        )
    )
    detail = serializers.CharField(
        allow_null=True, help_text="When `unchanged`: says so, in the app's language."
    )
    effects = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="What the bank's systems did because of it, e.g. offers_retracted.",
    )
    card = CardSerializer(help_text="The purpose's card after the choice.")


class ObjectionResultSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    effects = serializers.DictField(child=serializers.IntegerField())
    dashboard = DashboardSerializer()


class RefusedChoiceSerializer(ProblemSerializer):
    """Understood, refused, nothing written; the card as it is now, to show again."""

    reason = serializers.ChoiceField(
        choices=REFUSAL_REASONS,
        help_text="Why, for a program: the problem type's slug with underscores.",
    )
    code = serializers.ChoiceField(choices=REFUSAL_REASONS, help_text="The same as `reason`.")
    card = CardSerializer(allow_null=True)

    class Meta:
        ref_name = "RefusedChoice"


class OfferNotOpenSerializer(ProblemSerializer):
    reason = serializers.ChoiceField(choices=OFFER_REASONS)

    class Meta:
        ref_name = "OfferNotOpen"


# --- Offers -----------------------------------------------------------------------------------
class ReliedOnSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    data_used = serializers.CharField()
    version = serializers.IntegerField()
    given_at = UtcDateTimeField()


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    product = serializers.CharField(source="offer.product.code")
    product_name = serializers.CharField()
    product_facts = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    explanation = serializers.CharField()
    evidence = serializers.CharField()
    created_at = UtcDateTimeField(source="offer.created_at")
    valid_until = serializers.DateField(source="offer.valid_until")
    relied_on = ReliedOnSerializer(source="choices", many=True)


class AnsweredSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    product = serializers.CharField(source="offer.product.code")
    product_name = serializers.CharField()
    status = serializers.ChoiceField(choices=["accepted", "dismissed"])
    answered_at = UtcDateTimeField()


class OffersSerializer(serializers.Serializer):
    offers = OfferSerializer(many=True, help_text="Open: approved, in date, consent counts.")
    answered = AnsweredSerializer(many=True, help_text="What the customer said, newest first.")


class AnswerRequestSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=list(ANSWERS))


class AnsweredOfferSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    status_changed_at = UtcDateTimeField()


# --- The export (GDPR Art. 15 and 20), as `consent.export` makes it ---------------------------
class ExportProfileSerializer(serializers.Serializer):
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    birth_date = serializers.DateField()
    language = serializers.CharField()


class ExportChoiceSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    state = serializers.ChoiceField(choices=["granted", "withdrawn", "not_set"])
    valid = serializers.BooleanField()
    version = serializers.IntegerField(allow_null=True)
    changed_at = serializers.DateTimeField(allow_null=True)


class ExportObjectionSerializer(serializers.Serializer):
    active = serializers.BooleanField()
    since = serializers.DateTimeField(required=False)
    event_id = serializers.IntegerField(required=False)


class ExportEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    purpose = serializers.CharField(allow_null=True)
    action = serializers.ChoiceField(choices=Action.values)
    at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Channel.values)
    version = serializers.IntegerField(allow_null=True)
    notice_sha256 = serializers.CharField()


def _items(help_text):
    """A section another app fills (see the README's export format): a list of objects."""
    return serializers.ListField(child=serializers.DictField(), help_text=help_text)


class ExportSerializer(serializers.Serializer):
    """The same document as `/export.json` (the README describes every key); streamed."""

    customer_number = serializers.CharField()
    exported_at = serializers.DateTimeField()
    profile = ExportProfileSerializer()
    objection = ExportObjectionSerializer()
    choices = ExportChoiceSerializer(many=True)
    history = ExportEventSerializer(many=True)
    receipts = _items("The consent receipt of every event, as `me/history/{id}/receipt`.")
    offers = _items("Every offer made to the customer, whatever its status.")
    accounts = _items("iban, kind, balance, currency.")
    holdings = _items("product, for each product held that is not an account.")
    transactions = _items("Every transaction imported for the customer's accounts.")
    data_use = _items("The data-use log, newest first.")


# --- The data-use log ---------------------------------------------------------------------------
class DataUseSerializer(serializers.Serializer):
    """One time the offers engine read the customer's data under one purpose."""

    read_at = UtcDateTimeField()
    purpose = serializers.CharField(source="purpose_code")
    purpose_title = serializers.CharField()
    data_read = serializers.CharField(help_text="What was read, in the customer's words.")
    offered = serializers.ListField(
        child=serializers.CharField(), help_text="Products newly proposed on it."
    )
    kept = serializers.ListField(
        child=serializers.CharField(),
        help_text="Products of offers made earlier on the same purpose and still open then:"
        " the read left them standing instead of proposing them again.",
    )
    answered = serializers.ListField(
        child=serializers.CharField(),
        help_text="Products of offers on the same purpose the customer had already answered.",
    )
    outcome = serializers.ChoiceField(
        choices=["offered", "kept", "answered", "nothing"],
        help_text="What came of the read, one code: something new proposed, an existing"
        " offer kept, an offer already answered, or nothing.",
    )
    outcome_text = serializers.CharField(help_text="The outcome as the customer reads it.")


class DataUsesSerializer(serializers.Serializer):
    uses = DataUseSerializer(many=True)


# --- The feed ---------------------------------------------------------------------------------
class ChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The change's position; pass it as `after`.")
    customer_number = serializers.CharField(
        source="customer.customer_number",
        allow_null=True,
        help_text="Null only for a `resnapshot` marker.",
    )
    purpose = serializers.CharField(
        source="purpose.code", allow_null=True, help_text="Null only for a `resnapshot` marker."
    )
    may_use = serializers.BooleanField(
        allow_null=True,
        help_text="Whether the bank may use the customer's data for the purpose after it"
        " (null for a `resnapshot` marker).",
    )
    kind = serializers.ChoiceField(
        choices=ChangeKind.values,
        help_text="`resnapshot`: the bank restored an older backup; changes you read may be"
        " gone. Take a snapshot again (`valid-customers`) and follow on from this change.",
    )
    effective_at = UtcDateTimeField()
    recorded_at = UtcDateTimeField()
    valid_until = serializers.DateField(
        allow_null=True,
        help_text="While may_use: the last day it holds unless renewed; stop after it.",
    )


class ChangePageSerializer(serializers.Serializer):
    changes = ChangeSerializer(many=True)
    next = serializers.IntegerField(help_text="The cursor for the next page (`after=`).")
    has_more = serializers.BooleanField(help_text="Another page follows right away.")


class SnapshotLineSerializer(serializers.Serializer):
    """One line of the NDJSON snapshot: first `snapshot`, then one `customer` per customer
    (by customer number), last `end`. A body without its `end` line is incomplete."""

    type = serializers.ChoiceField(choices=["snapshot", "customer", "end"])
    purpose = serializers.CharField(required=False, help_text="`snapshot` line.")
    at = UtcDateTimeField(required=False, help_text="`snapshot` line: when it was read.")
    cursor = serializers.IntegerField(
        required=False,
        help_text="`snapshot` line: follow the feed from here (`after=`) once the snapshot is"
        " complete; no change is missed.",
    )
    after = serializers.CharField(
        required=False, help_text="`snapshot` line of a resumed snapshot: where it resumed."
    )
    customer_number = serializers.CharField(required=False, help_text="`customer` line.")
    since = UtcDateTimeField(required=False, help_text="`customer` line: consent given at.")
    valid_until = serializers.DateField(
        required=False, help_text="`customer` line: the last day it holds unless renewed."
    )
    customers = serializers.IntegerField(
        required=False, help_text="`end` line: how many `customer` lines came."
    )


# --- The purposes, and the check for the bank's systems ----------------------------------------
class NoticeHashesSerializer(serializers.Serializer):
    nl = serializers.CharField(help_text="SHA-256 of the Dutch notice text of this version.")
    en = serializers.CharField(help_text="SHA-256 of the English notice text of this version.")


class PurposeEntrySerializer(serializers.Serializer):
    """A purpose as the bank publishes it now (its newest published version)."""

    code = serializers.CharField(source="purpose.code")
    title_nl = serializers.CharField()
    title_en = serializers.CharField()
    version = serializers.IntegerField()
    published_at = UtcDateTimeField(help_text="When this version took effect.")
    notice_sha256 = serializers.SerializerMethodField()
    legal_basis = serializers.ChoiceField(source="purpose.legal_basis", choices=LegalBasis.values)
    required = serializers.BooleanField(
        source="purpose.required",
        help_text="Part of the service (a contract or legal obligation): not a choice.",
    )
    direct_marketing = serializers.BooleanField(
        source="purpose.direct_marketing",
        help_text="An objection to direct marketing stops it, whatever the consent.",
    )

    @extend_schema_field(NoticeHashesSerializer)
    def get_notice_sha256(self, version):
        return {language: version.notice_sha256(language) for language in ("nl", "en")}


class PurposeListSerializer(serializers.Serializer):
    purposes = PurposeEntrySerializer(many=True)


USE_REASONS = (
    "not_granted",
    "withdrawn",
    *(
        validity.MATERIAL_CHANGE,
        validity.EXPIRED,
        validity.TOO_YOUNG,
        validity.GIVEN_UNDER_16,
        validity.OBJECTION,
        validity.CLOSED,
        validity.NOT_YET,
        validity.UNKNOWN,
    ),
)


class UseCheckSerializer(serializers.Serializer):
    customer_number = serializers.CharField()
    purpose = serializers.CharField()
    legal_basis = serializers.ChoiceField(choices=LegalBasis.values)
    valid = serializers.BooleanField(
        source="may_use", help_text="Whether the bank may use the customer for it now."
    )
    reason = serializers.ChoiceField(
        choices=USE_REASONS,
        allow_null=True,
        help_text="Why not (null when `valid`): no consent, withdrawn, or why a consent"
        " given no longer counts.",
    )
    since = UtcDateTimeField(
        allow_null=True, help_text="When the consent that counts was given (consent only)."
    )


class WebhookPayloadSerializer(serializers.Serializer):
    """A webhook's body (`api.webhooks.payload`): one feed row, as the feed gives it."""

    type = serializers.ChoiceField(
        choices=["consent.changed", "consent.resnapshot"],
        help_text="`consent.resnapshot` for the restore marker (`kind` `resnapshot`), else"
        " `consent.changed`.",
    )
    timestamp = UtcDateTimeField(help_text="The row's `recorded_at`.")
    data = ChangeSerializer(help_text="The feed row; `data.id` is its feed id: dedupe by it.")
