"""The API (`/api/v1/`): a thin layer, one call into the domain per view.

Customer endpoints live under `me/`: no customer id is ever in a URL, the token says
whose data it is (`permissions.CustomerToken` sets `request.customer`), and an id of
another customer's event or offer is a 404, exactly as on the website. The feed
endpoints answer only the bank's systems (`permissions.FeedClientToken`), and every one
of their reads is logged.
"""

import json

from django.conf import settings
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.checks import UnknownCustomer, may_use
from consent.choices import (
    CHOICES,
    ChoiceError,
    CustomerClosed,
    ObjectionStands,
    RequiredPurpose,
    StaleNotice,
    TooYoung,
    UnknownPurpose,
    already_chosen_message,
    get_purpose,
    lift_objection,
    record_choice,
    stop_all_offers,
)
from consent.dashboard import (
    current_versions,
    customer_dashboard,
    customer_history,
    get_event_for_customer,
)
from consent.export import stream_export
from consent.receipts import consent_receipt, policy_url
from ledger.models import Channel
from offers.customer import (
    OfferNotOpen,
    answer_offer,
    answered_offers,
    data_uses,
    shown_offers,
)

from . import changes, idempotency, problems
from . import serializers as s
from .error_docs import PROBLEM, errors, problem, problem_example
from .idempotency import idempotent
from .models import FeedEndpoint, FeedRead
from .oauth import CHECK, CHOOSE, FEED, READ
from .permissions import AnyClientToken, CustomerToken, FeedClientToken
from .problems import problem_body

# Each refusal of consent/choices.py, as its machine-readable `reason` (also `code`, as
# before) and its problem type (the reason with hyphens: `stale_notice` is
# /api/v1/problems/stale-notice).
NDJSON = "application/x-ndjson"
SNAPSHOT_EXAMPLES = [
    OpenApiExample(
        name,
        value=value,
        media_type=NDJSON,
        response_only=True,
    )
    for name, value in (
        (
            "the first line",
            {
                "type": "snapshot",
                "purpose": "offers_spending",
                "at": "2026-12-07T09:00:00Z",
                "cursor": 48211,
            },
        ),
        (
            "a customer line",
            {
                "type": "customer",
                "customer_number": "100001",
                "since": "2026-10-23T08:15:00Z",
                "valid_until": "2028-10-22",
            },
        ),
        ("the last line", {"type": "end", "customers": 15872}),
    )
]

REFUSAL_CODES = (
    (StaleNotice, "stale_notice"),
    (TooYoung, "too_young"),
    (ObjectionStands, "objection_stands"),
    (RequiredPurpose, "required_purpose"),
    (CustomerClosed, "customer_closed"),
)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": f"^{idempotency.KEY_PATTERN}$"},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional; a new UUID per action, sent again unchanged with each retry. Within 24"
        " hours a repeat of the same request with the same key (for the same client and"
        " customer) gets the first answer again, with `Idempotent-Replayed: true`, and"
        " changes nothing; the same key with another request is a 422. A repeat sent while"
        " the first is still running waits for it. Answers that are errors (400, 404, 415)"
        " are not kept."
    ),
)


class ApiView(APIView):
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Personal data: never stored by a cache or a shared device.
        response["Cache-Control"] = "no-store"
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit is not None:
            for name, value in rate_limit.headers().items():
                response[name] = value
        return response


class CustomerView(ApiView):
    permission_classes = [CustomerToken]
    required_scopes = [READ]
    throttle_scope = "read"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Texts and messages in the language the app asks for, else the customer's own.
        self.language = requested_language(request) or request.customer.language
        translation.activate(self.language)
        request.LANGUAGE_CODE = self.language


class ChoosingView(CustomerView):
    required_scopes = [CHOOSE]
    throttle_scope = "choose"


def requested_language(request) -> str | None:
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            return None
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


# --- Reading ---------------------------------------------------------------------------------
class DashboardView(CustomerView):
    @extend_schema(
        operation_id="me_purposes",
        summary="Every purpose as the customer's card, and the objection",
        responses={200: s.DashboardSerializer, **errors()},
    )
    def get(self, request):
        page = customer_dashboard(request.customer, language=self.language, at=timezone.now())
        return Response(s.DashboardSerializer(page).data)


class PurposeView(CustomerView):
    @extend_schema(
        operation_id="me_purpose",
        summary="One purpose's card: its current text, the customer's choice, validity",
        responses={200: s.CardSerializer, **errors(404)},
    )
    def get(self, request, code):
        page = customer_dashboard(
            request.customer, language=self.language, at=timezone.now(), code=code
        )
        if len(page.cards) != 1:
            raise Http404
        return Response(s.CardSerializer(page.cards[0]).data)


class HistoryView(CustomerView):
    @extend_schema(
        operation_id="me_history",
        summary="Every event of the customer's ledger, newest first",
        responses={200: s.HistorySerializer, **errors()},
    )
    def get(self, request):
        events = customer_history(request.customer)
        return Response({"events": s.EventSerializer(events, many=True).data})


class ReceiptView(CustomerView):
    @extend_schema(
        operation_id="me_receipt",
        summary="The consent receipt of one event (Kantara Consent Receipt 1.1 fields)",
        responses={
            200: s.ReceiptSerializer,
            **errors(404),
        },
    )
    def get(self, request, event_id):
        event = get_event_for_customer(request.customer, event_id)
        return Response(consent_receipt(event, policy_url=policy_url(request, event)))


class ExportView(CustomerView):
    @extend_schema(
        operation_id="me_export",
        summary="The customer's data export (GDPR Art. 15 and 20), as /export.json (streamed)",
        responses={200: s.ExportSerializer, **errors()},
    )
    def get(self, request):
        return StreamingHttpResponse(
            stream_export(request.customer, policy_url=lambda event: policy_url(request, event)),
            content_type="application/json",
        )


class OffersView(CustomerView):
    @extend_schema(
        operation_id="me_offers",
        summary="The customer's open offers (consent still counts) and their answers",
        responses={200: s.OffersSerializer, **errors()},
    )
    def get(self, request):
        now = timezone.now()
        return Response(
            {
                "offers": s.OfferSerializer(
                    shown_offers(request.customer, language=self.language, at=now), many=True
                ).data,
                "answered": s.AnsweredSerializer(
                    answered_offers(request.customer, language=self.language), many=True
                ).data,
            }
        )


class DataUseView(CustomerView):
    @extend_schema(
        operation_id="me_data_use",
        summary="Every time the offers engine read the customer's data, newest first",
        responses={200: s.DataUsesSerializer, **errors()},
    )
    def get(self, request):
        uses = data_uses(request.customer, language=self.language)
        return Response({"uses": s.DataUseSerializer(uses, many=True).data})


# --- Choosing --------------------------------------------------------------------------------
def refused(request, language, error, *, code=None, purpose=None) -> Response:
    """409: understood, refused, nothing written; with the card as it is now."""
    code = code or next((c for kind, c in REFUSAL_CODES if isinstance(error, kind)), "refused")
    card = None
    if purpose is not None:
        cards = customer_dashboard(
            request.customer, language=language, at=timezone.now(), code=purpose
        ).cards
        card = s.CardSerializer(cards[0]).data if cards else None
    body = problem_body(
        request, code.replace("_", "-"), detail=str(error), reason=code, code=code, card=card
    )
    return Response(body, status=409, content_type=problems.CONTENT_TYPE)


class ChoiceView(ChoosingView):
    @extend_schema(
        operation_id="me_choose",
        summary="Grant or withdraw, bound to the version of the text shown",
        description=(
            "A grant sends back `version` and `notice_sha256` of the card shown; if the text"
            " changed since, nothing is written and the answer is 409 with the new card. A"
            " withdrawal always succeeds. Recorded with channel `app`."
        ),
        request=s.ChoiceRequestSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: s.ChoiceResultSerializer,
            (409, PROBLEM): problem(
                s.RefusedChoiceSerializer,
                "Refused; see `reason`.",
                [
                    problem_example(
                        "stale-notice",
                        409,
                        "The text has changed",
                        "The text has changed; please read it and choose again.",
                        "/api/v1/me/purposes/offers_income/choice",
                        reason="stale_notice",
                        code="stale_notice",
                        card=None,
                    )
                ],
            ),
            **errors(400, 404, 415, 422),
        },
    )
    @idempotent
    def post(self, request, code):
        form = s.ChoiceRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        now = timezone.now()
        action = CHOICES[form.validated_data["choice"]]
        try:
            recorded = record_choice(
                customer=request.customer,
                purpose_code=code,
                action=action,
                channel=Channel.APP,
                actor=request.user,
                at=now,
                version=form.validated_data.get("version"),
                notice_sha256=form.validated_data.get("notice_sha256") or "",
                language=self.language,
            )
        except UnknownPurpose:
            raise Http404 from None
        except ChoiceError as error:
            return refused(request, self.language, error, purpose=code)
        (card,) = customer_dashboard(
            request.customer, language=self.language, at=now, code=code
        ).cards
        return Response(
            {
                "events": s.EventSerializer(recorded.events, many=True).data,
                "renewed": recorded.renewed,
                "unchanged": recorded.unchanged,
                "detail": str(already_chosen_message()) if recorded.unchanged else None,
                "effects": recorded.effects.as_counts(),
                "card": s.CardSerializer(card).data,
            }
        )


class StopAllView(ChoosingView):
    @extend_schema(
        operation_id="me_stop_all",
        summary="Stop all personal offers: withdraw each, and object to direct marketing",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.ObjectionResultSerializer, **errors(400, 422)},
    )
    @idempotent
    def post(self, request):
        now = timezone.now()
        recorded = stop_all_offers(
            customer=request.customer,
            channel=Channel.APP,
            actor=request.user,
            at=now,
            language=self.language,
        )
        return self.result(request, recorded, now)

    def result(self, request, recorded, now):
        page = customer_dashboard(request.customer, language=self.language, at=now)
        return Response(
            {
                "events": s.EventSerializer(recorded.events, many=True).data,
                "effects": recorded.effects.as_counts(),
                "dashboard": s.DashboardSerializer(page).data,
            }
        )


class LiftObjectionView(StopAllView):
    @extend_schema(
        operation_id="me_lift_objection",
        summary="Lift the objection to direct marketing; it switches nothing back on",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: s.ObjectionResultSerializer,
            (409, PROBLEM): problem(s.RefusedChoiceSerializer, "No objection stands."),
            **errors(400, 422),
        },
    )
    @idempotent
    def post(self, request):
        now = timezone.now()
        try:
            recorded = lift_objection(
                customer=request.customer,
                channel=Channel.APP,
                actor=request.user,
                at=now,
                language=self.language,
            )
        except ChoiceError as error:
            return refused(request, self.language, error, code="no_objection")
        return self.result(request, recorded, now)


class AnswerOfferView(ChoosingView):
    @extend_schema(
        operation_id="me_answer_offer",
        summary="Interested, or not interested, in an offer the customer can see",
        request=s.AnswerRequestSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: s.AnsweredOfferSerializer,
            (409, PROBLEM): problem(s.OfferNotOpenSerializer, "The offer is not open."),
            **errors(400, 404, 415, 422),
        },
    )
    @idempotent
    def post(self, request, offer_id):
        form = s.AnswerRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            offer = answer_offer(
                request.customer,
                offer_id,
                answer=form.validated_data["answer"],
                at=timezone.now(),
            )
        except OfferNotOpen:
            body = problem_body(
                request,
                "offer-not-open",
                detail=_("Deze aanbieding is niet meer open; er is niets veranderd."),
                reason="offer_not_open",
            )
            return Response(body, status=409, content_type=problems.CONTENT_TYPE)
        return Response(s.AnsweredOfferSerializer(offer).data)


# --- What every client may read, and the check for the bank's systems ------------------------
class PurposesView(ApiView):
    permission_classes = [AnyClientToken]
    throttle_scope = "read"

    @extend_schema(
        operation_id="purposes",
        summary="Every purpose the bank publishes now: its texts' version and hashes, its basis",
        description=(
            "Public to every client with a valid token (the app's or a system's). For each"
            " purpose its newest published version: titles in Dutch and English, the"
            " version number and the SHA-256 of each language's notice text, the legal"
            " basis, and whether it is required (not a choice)."
        ),
        auth=[{"oauth2": []}],  # any of our tokens, whatever its scopes
        responses={200: s.PurposeListSerializer, **errors()},
    )
    def get(self, request):
        versions = current_versions(at=timezone.now()).order_by()
        ordered = sorted(versions, key=lambda v: (v.purpose.position, v.purpose.code))
        return Response({"purposes": s.PurposeEntrySerializer(ordered, many=True).data})


class MayUseView(ApiView):
    permission_classes = [FeedClientToken]
    required_scopes = [CHECK]
    throttle_scope = "check"

    @extend_schema(
        operation_id="may_use",
        summary="May the bank use this customer for this purpose now, and if not, why",
        description=(
            "For the bank's systems (client credentials, scope `consent:check`), one"
            " customer at a time. `valid` is the same judgement as the consent gate's;"
            " `reason` names why not: `not_granted`, `withdrawn`, or why a consent given"
            " no longer counts (`expired`, `material_change`, `objection`, `too_young`,"
            " `given_under_16`, `closed`, …). An unknown customer or purpose is a 404."
        ),
        responses={
            200: OpenApiResponse(
                s.UseCheckSerializer,
                examples=[
                    OpenApiExample(
                        "valid",
                        value={
                            "customer_number": "100001",
                            "purpose": "offers_spending",
                            "legal_basis": "consent",
                            "valid": True,
                            "reason": None,
                            "since": "2026-10-23T08:15:00Z",
                        },
                        response_only=True,
                    ),
                    OpenApiExample(
                        "expired",
                        value={
                            "customer_number": "100002",
                            "purpose": "offers_spending",
                            "legal_basis": "consent",
                            "valid": False,
                            "reason": "expired",
                            "since": None,
                        },
                        response_only=True,
                    ),
                ],
            ),
            **errors(404),
        },
    )
    def get(self, request, customer_number, code):
        try:
            purpose = get_purpose(code)
        except UnknownPurpose:
            raise Http404 from None
        try:
            check = may_use(customer_number=customer_number, purpose=purpose, at=timezone.now())
        except UnknownCustomer:
            # Asking about a customer the bank does not know is a read too (rows 0).
            log_read(request, endpoint=FeedEndpoint.MAY_USE, purpose=purpose.code, rows=0)
            raise Http404 from None
        log_read(request, endpoint=FeedEndpoint.MAY_USE, purpose=purpose.code, rows=1)
        return Response(s.UseCheckSerializer(check).data)


def log_read(request, **what):
    """What one of the bank's systems read, with who and when (`FeedRead`): the feed, a
    snapshot, a check. A check logs the purpose, not the customer: the log says how much
    each system asks, without becoming a second record of whom."""
    application = request.auth.application
    FeedRead.objects.create(
        read_at=timezone.now(),
        client_id=application.client_id,
        client_name=application.name,
        **what,
    )


# --- The feed for the bank's systems ----------------------------------------------------------
class FeedView(ApiView):
    permission_classes = [FeedClientToken]
    required_scopes = [FEED]
    throttle_scope = "feed"


class FeedQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0,
        max_value=2**63 - 1,
        default=0,
        help_text="The cursor: the `next` of the previous page, or 0 from the beginning.",
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=settings.API_FEED_PAGE_MAX, default=settings.API_FEED_PAGE_MAX
    )


class ConsentChangesView(FeedView):
    @extend_schema(
        operation_id="consent_changes",
        summary="Every change in whether a customer may be used for a purpose, in order",
        description=(
            "Grants, renewals, withdrawals and objections as they are recorded (in the same"
            " transaction), and the changes that are not events (expiry, a material"
            " version, age) once they took effect: those are written by the bank's"
            " schedule every minute, so they appear at most 1 min 21 s after their"
            " `effective_at` (stop on `valid_until` regardless). Replay the changes in order"
            " and keep the last `may_use` per customer and purpose.\n\n"
            "**Order:** the cursor is stable: a change once behind `next` is never inserted"
            " before it. **Gaps:** ids are not dense (a rolled-back write leaves one; after a"
            " restore ids jump ten million); never infer a missing change from a gap."
            " **At least once:** a retried page, or a snapshot followed from its cursor,"
            " gives a change again; applying it twice does no harm (dedupe by `id`)."
            " `resnapshot` (no customer): take the snapshots again. See"
            " docs/integrators.md."
        ),
        parameters=[FeedQuerySerializer],
        responses={200: s.ChangePageSerializer, **errors(400)},
    )
    def get(self, request):
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        rows = changes.changes_after(after, limit=limit + 1)
        page, has_more = rows[:limit], len(rows) > limit
        last = page[-1].id if page else after
        log_read(
            request, endpoint=FeedEndpoint.CHANGES, after_id=after, last_id=last, rows=len(page)
        )
        return Response(
            {
                "changes": s.ChangeSerializer(page, many=True).data,
                "next": last,
                "has_more": has_more,
            }
        )


class SnapshotQuerySerializer(serializers.Serializer):
    resume = serializers.RegexField(
        r"^[0-9]{1,19}:[0-9A-Za-z]{1,20}$",
        required=False,
        help_text="To resume a broken snapshot: `<cursor>:<customer_number>`, the `cursor` of"
        " its first line and the last `customer_number` received.",
    )

    def validate(self, data):
        if self.initial_data.get("resume") == "":  # a form field would take it as absent
            raise serializers.ValidationError({"resume": "Empty: leave it out to start anew."})
        if "resume" in data:
            cursor, after = data.pop("resume").split(":")
            # Never a position the feed has not reached: from a later one, changes would be
            # missed. (A cursor only ever comes from a snapshot's first line.)
            data["cursor"], data["after"] = min(int(cursor), changes.feed_position()), after
        return data


class NdjsonRenderer(BaseRenderer):
    """The snapshot's body is written line by line by the view; this only lets a client ask
    for it (`Accept: application/x-ndjson`) without a 406."""

    media_type = NDJSON
    format = "ndjson"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() + b"\n"


class ValidCustomersView(FeedView):
    renderer_classes = [JSONRenderer, NdjsonRenderer]

    @extend_schema(
        operation_id="valid_customers",
        summary="Snapshot: every customer whose consent for the purpose counts now (NDJSON)",
        description=(
            "For a first load, as NDJSON (one JSON object per line): first a `snapshot` line"
            " with `cursor`, the feed position the snapshot is at least as new as; then one"
            " `customer` line per customer, by customer number; last an `end` line with the"
            " count. No `end` line: the stream broke; resume with `resume=<the first line's"
            " cursor>:<the last customer_number received>`. Then follow"
            " `consent-changes?after=<cursor>`: no change is missed (a change that is already"
            " in the snapshot comes again; applying it twice does no harm)."
        ),
        parameters=[SnapshotQuerySerializer],
        responses={(200, NDJSON): s.SnapshotLineSerializer, **errors(400, 404)},
        examples=SNAPSHOT_EXAMPLES,
    )
    def get(self, request, code):
        query = SnapshotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            purpose = get_purpose(code)
        except UnknownPurpose:
            raise Http404 from None
        if not purpose.is_consent_based:
            raise Http404
        after = query.validated_data.get("after")
        # The position first, then the rows: every change up to it is in the snapshot. A
        # resumed snapshot keeps its first part's position (older, so nothing is missed).
        cursor = query.validated_data.get("cursor")
        if cursor is None:
            cursor = changes.feed_position()
        now = timezone.now()
        log_read(
            request, endpoint=FeedEndpoint.VALID_CUSTOMERS, purpose=purpose.code, last_id=cursor
        )
        rows = changes.valid_customers(purpose_code=purpose.code, at=now, after=after)
        head = {"type": "snapshot", "purpose": purpose.code, "at": _iso(now), "cursor": cursor}
        if after is not None:
            head["after"] = after
        return StreamingHttpResponse(_snapshot_lines(head, rows), content_type=NDJSON)


def _snapshot_lines(head, rows):
    yield json.dumps(head) + "\n"
    count = 0
    for customer_number, since, valid_until in rows:
        item = {
            "type": "customer",
            "customer_number": customer_number,
            "since": _iso(since),
            "valid_until": valid_until.isoformat(),
        }
        count += 1
        yield json.dumps(item) + "\n"
    yield json.dumps({"type": "end", "customers": count}) + "\n"


_DATETIME = s.UtcDateTimeField()


def _iso(moment):
    return _DATETIME.to_representation(moment)
