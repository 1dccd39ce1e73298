"""The API for data users (third parties: PSD2 account information services, FiDA data
users), shaped after the Berlin Group NextGenPSD2 consent and AIS resources.

A data user's client (client credentials, scope `psd2:ais`, `access.DataUser`) asks for
access (`POST consents`: the answer holds `consentId` and the link where the customer
approves, on our site, after logging in), follows it (`GET consents/{id}`,
`…/status`), ends it (`DELETE consents/{id}`), and reads under it (`GET accounts`,
`…/balances`, `…/transactions`, with the `Consent-ID` header) through the gate
(`access.gate`), where the permission is checked inside the read's SQL. A data user
sees only its own permissions: another's consentId is unknown to it (403).
"""

import datetime as dt
import uuid

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from access import actions, gate
from access.models import MAX_FREQUENCY_PER_DAY, MAX_VALID_DAYS, AccessChange, Permission

from . import problems
from .clients import redirect_uri_allowed
from .error_docs import errors
from .oauth import AIS
from .permissions import DataUserToken
from .views import ApiView

# Berlin Group message code -> our problem type.
PROBLEM_OF = {
    "CONSENT_UNKNOWN": "consent-unknown",
    "CONSENT_INVALID": "consent-invalid",
    "CONSENT_EXPIRED": "consent-expired",
    "RESOURCE_UNKNOWN": "resource-unknown",
    "PERIOD_INVALID": "period-invalid",
    "ACCESS_EXCEEDED": "access-exceeded",
    "SERVICE_BLOCKED": "forbidden",
}
CONSENT_ID = OpenApiParameter(
    "Consent-ID",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    required=True,
    description="The consentId the customer approved.",
)


class StrictBooleanField(serializers.BooleanField):
    """JSON's true or false, nothing else (DRF also takes 0, 1, "yes", …)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not a string or a float that looks like one."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class IbanSerializer(serializers.Serializer):
    iban = serializers.RegexField(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


class AccessSerializer(serializers.Serializer):
    accounts = IbanSerializer(many=True, required=False)
    balances = IbanSerializer(many=True, required=False)
    transactions = IbanSerializer(many=True, required=False)
    allPsd2 = serializers.ChoiceField(choices=["allAccounts"], required=False)

    def validate(self, attrs):
        if attrs.get("allPsd2"):
            if any(attrs.get(kind) for kind in ("accounts", "balances", "transactions")):
                raise serializers.ValidationError("allPsd2 stands alone.")
            return attrs
        lists = {
            kind: sorted({item["iban"] for item in attrs.get(kind, [])})
            for kind in ("accounts", "balances", "transactions")
        }
        if not (lists["balances"] or lists["transactions"]):
            raise serializers.ValidationError("Ask for balances, transactions, or allPsd2.")
        # One list of accounts for every kind of data: the approval text says it in one
        # sentence, and the customer approves exactly that.
        named = [ibans for ibans in lists.values() if ibans]
        if any(ibans != named[0] for ibans in named):
            raise serializers.ValidationError("Name the same accounts for each kind of data.")
        return attrs


class ConsentRequestSerializer(serializers.Serializer):
    access = AccessSerializer()
    recurringIndicator = StrictBooleanField()
    validUntil = serializers.DateField()
    frequencyPerDay = StrictIntegerField(min_value=1, max_value=MAX_FREQUENCY_PER_DAY)
    combinedServiceIndicator = StrictBooleanField(default=False)
    # Beyond the Berlin Group: why, in the data user's words, shown to the customer.
    purpose = serializers.CharField(min_length=3, max_length=300)

    def validate_validUntil(self, value):
        today = timezone.localdate()
        if not today < value <= today + dt.timedelta(days=MAX_VALID_DAYS):
            raise serializers.ValidationError(
                f"After today and at most {MAX_VALID_DAYS} days ahead."
            )
        return value

    def validate_recurringIndicator(self, value):
        if not value:
            raise serializers.ValidationError("Only recurring access is offered.")
        return value


def _consent_json(request, permission: Permission) -> dict:
    ibans = [{"iban": iban} for iban in permission.ibans]
    if permission.all_accounts:
        access: dict = {"allPsd2": "allAccounts"}
    else:
        access = {"accounts": ibans}
        if permission.balances:
            access["balances"] = ibans
        if permission.transactions:
            access["transactions"] = ibans
    return {
        "consentId": str(permission.consent_id),
        "access": access,
        "recurringIndicator": True,
        "validUntil": permission.valid_until.isoformat(),
        "frequencyPerDay": permission.frequency_per_day,
        "lastActionDate": timezone.localdate(
            permission.ended_at or permission.decided_at or permission.requested_at
        ).isoformat(),
        "consentStatus": gate.status_of(permission, at=timezone.now()),
        "_links": _links(request, permission),
    }


def _links(request, permission: Permission) -> dict:
    consent_id = permission.consent_id
    return {
        "scaRedirect": {
            "href": request.build_absolute_uri(reverse("access_request", args=[consent_id]))
        },
        "self": {"href": reverse("api_access_consent", args=[consent_id])},
        "status": {"href": reverse("api_access_consent_status", args=[consent_id])},
    }


CONSENT_RESPONSE = inline_serializer(
    "ThirdPartyConsent",
    {
        "consentId": serializers.UUIDField(),
        "access": serializers.DictField(),
        "recurringIndicator": serializers.BooleanField(),
        "validUntil": serializers.DateField(),
        "frequencyPerDay": serializers.IntegerField(),
        "lastActionDate": serializers.DateField(),
        "consentStatus": serializers.ChoiceField(
            choices=[
                "received",
                "valid",
                "rejected",
                "revokedByPsu",
                "expired",
                "terminatedByTpp",
            ]
        ),
        "_links": serializers.DictField(),
    },
)


class DataUserView(ApiView):
    permission_classes = [DataUserToken]
    required_scopes = [AIS]
    throttle_scope = "read"

    def own_permission(self, request, consent_id) -> Permission:
        found = Permission.objects.filter(
            consent_id=consent_id, data_user=request.data_user
        ).first()
        if found is None:
            raise Http404
        return found


class ConsentsView(DataUserView):
    @extend_schema(
        operation_id="third_party_consent_create",
        summary="A data user asks for access to a customer's payment accounts",
        description=(
            "Berlin Group consent resource. `access` names the IBANs (the same for each kind"
            " of data) or `allPsd2: allAccounts`; `validUntil` at most 180 days ahead;"
            " `frequencyPerDay` 1 to 4; `purpose` is shown to the customer. The answer's"
            " `_links.scaRedirect` is where the customer approves or refuses, on the bank's"
            " site. The optional `TPP-Redirect-URI` header must be on the bank's allow-list."
        ),
        request=ConsentRequestSerializer,
        responses={201: CONSENT_RESPONSE, **errors(400, 401, 403)},
    )
    def post(self, request):
        body = ConsentRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        redirect_uri = request.headers.get("TPP-Redirect-URI", "")
        if redirect_uri and not redirect_uri_allowed(redirect_uri):
            raise serializers.ValidationError(
                {"TPP-Redirect-URI": ["Not on the bank's allow-list of redirect URIs."]}
            )
        access = data["access"]
        all_accounts = bool(access.get("allPsd2"))
        ibans = {
            item["iban"]
            for kind in ("accounts", "balances", "transactions")
            for item in access.get(kind, [])
        }
        try:
            permission = actions.request_permission(
                data_user=request.data_user,
                all_accounts=all_accounts,
                ibans=sorted(ibans),
                balances=all_accounts or bool(access.get("balances")),
                transactions=all_accounts or bool(access.get("transactions")),
                valid_until=data["validUntil"],
                frequency_per_day=data["frequencyPerDay"],
                reason=data["purpose"],
                redirect_uri=redirect_uri,
                at=timezone.now(),
            )
        except actions.AccessError as error:
            return problems.problem_response(request, "forbidden", detail=str(error))
        return Response(_consent_json(request, permission), status=201)


class ChangesQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0,
        max_value=2**63 - 1,
        default=0,
        help_text="The cursor: the `next` of the previous page, or 0 from the beginning.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=500, default=500)


class ConsentChangesView(DataUserView):
    @extend_schema(
        operation_id="third_party_consent_changes",
        summary="Every change to the data user's consents, in order (its feed)",
        description=(
            "Approved, rejected, revoked by the customer (or for them by the contact"
            " centre, or when they left the bank), terminated by the data user, the data"
            " user suspended or reinstated by the bank. Follow it with `after=<next>`; ids"
            " only grow, and a reader that has seen id N has seen every id below it."
        ),
        parameters=[ChangesQuerySerializer],
        responses={
            200: inline_serializer(
                "ThirdPartyConsentChanges",
                {
                    "changes": serializers.ListField(),
                    "next": serializers.IntegerField(),
                    "has_more": serializers.BooleanField(),
                },
            ),
            **errors(400),
        },
    )
    def get(self, request):
        query = ChangesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        rows = list(
            AccessChange.objects.filter(data_user=request.data_user, id__gt=after)
            .select_related("permission")
            .order_by("id")[: limit + 1]
        )
        page = rows[:limit]
        return Response(
            {
                "changes": [
                    {
                        "id": change.id,
                        "consentId": str(change.permission.consent_id),
                        "event": change.event,
                        "consentStatus": change.consent_status,
                        "effectiveAt": change.effective_at.astimezone(dt.UTC)
                        .isoformat()
                        .replace("+00:00", "Z"),
                    }
                    for change in page
                ],
                "next": page[-1].id if page else after,
                "has_more": len(rows) > limit,
            }
        )


class ConsentView(DataUserView):
    @extend_schema(
        operation_id="third_party_consent",
        summary="One of the data user's consents, as it stands",
        responses={200: CONSENT_RESPONSE, **errors(401, 403, 404)},
    )
    def get(self, request, consent_id):
        return Response(_consent_json(request, self.own_permission(request, consent_id)))

    @extend_schema(
        operation_id="third_party_consent_delete",
        summary="The data user ends its consent (terminatedByTpp)",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, consent_id):
        permission = self.own_permission(request, consent_id)
        try:
            actions.terminate(permission=permission, data_user=request.data_user, at=timezone.now())
        except actions.NotOpen as error:
            return problems.problem_response(request, "refused", detail=str(error))
        return Response(status=204)


class ConsentStatusView(DataUserView):
    @extend_schema(
        operation_id="third_party_consent_status",
        summary="The consent's status only",
        responses={
            200: inline_serializer(
                "ThirdPartyConsentStatus", {"consentStatus": serializers.CharField()}
            ),
            **errors(401, 403, 404),
        },
    )
    def get(self, request, consent_id):
        permission = self.own_permission(request, consent_id)
        return Response({"consentStatus": gate.status_of(permission, at=timezone.now())})


def _consent_header(request) -> uuid.UUID:
    value = request.headers.get("Consent-ID", "")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise serializers.ValidationError(
            {"Consent-ID": ["A consentId (UUID) is required."]}
        ) from None


def _refused(request, refusal: gate.Refused):
    return problems.problem_response(request, PROBLEM_OF[refusal.code], code=refusal.code)


class AccountsView(DataUserView):
    @extend_schema(
        operation_id="third_party_accounts",
        summary="The accounts the consent covers",
        parameters=[CONSENT_ID],
        responses={
            200: inline_serializer("ThirdPartyAccounts", {"accounts": serializers.ListField()}),
            **errors(400, 401, 403, 429),
        },
    )
    def get(self, request):
        consent_id = _consent_header(request)
        try:
            result = gate.read(
                kind="accounts",
                data_user=request.data_user,
                consent_id=consent_id,
                at=timezone.now(),
            )
        except gate.Refused as refusal:
            return _refused(request, refusal)
        return Response({"accounts": result.rows})


class BalancesView(DataUserView):
    @extend_schema(
        operation_id="third_party_balances",
        summary="An account's balance, under the consent",
        parameters=[CONSENT_ID],
        responses={
            200: inline_serializer(
                "ThirdPartyBalances",
                {"account": serializers.DictField(), "balances": serializers.ListField()},
            ),
            **errors(400, 401, 403, 404, 429),
        },
    )
    def get(self, request, resource_id):
        consent_id = _consent_header(request)
        try:
            result = gate.read(
                kind="balances",
                data_user=request.data_user,
                consent_id=consent_id,
                resource_id=resource_id,
                at=timezone.now(),
            )
        except gate.Refused as refusal:
            return _refused(request, refusal)
        (row,) = result.rows
        return Response(
            {
                "account": {"iban": row["iban"]},
                "balances": [
                    {
                        "balanceType": "interimBooked",
                        "balanceAmount": {
                            "currency": row["currency"],
                            "amount": str(row["balance"]),
                        },
                    }
                ],
            }
        )


class PeriodSerializer(serializers.Serializer):
    dateFrom = serializers.DateField()
    dateTo = serializers.DateField(required=False)
    bookingStatus = serializers.ChoiceField(choices=["booked"], default="booked")

    def validate(self, attrs):
        attrs.setdefault("dateTo", timezone.localdate())
        if attrs["dateFrom"] > attrs["dateTo"]:
            raise serializers.ValidationError({"dateFrom": ["dateFrom is after dateTo."]})
        return attrs


class TransactionsView(DataUserView):
    @extend_schema(
        operation_id="third_party_transactions",
        summary="An account's booked transactions in a period, under the consent",
        description=(
            "`dateFrom` (required) and `dateTo` (default today), Europe/Amsterdam days."
            " A period starting before what the consent allows (90 days before approval)"
            " is refused whole (`period-invalid`), never cut."
        ),
        parameters=[CONSENT_ID, PeriodSerializer],
        responses={
            200: inline_serializer(
                "ThirdPartyTransactions",
                {"account": serializers.DictField(), "transactions": serializers.DictField()},
            ),
            **errors(400, 401, 403, 404, 429),
        },
    )
    def get(self, request, resource_id):
        consent_id = _consent_header(request)
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        try:
            result = gate.read(
                kind="transactions",
                data_user=request.data_user,
                consent_id=consent_id,
                resource_id=resource_id,
                date_from=period.validated_data["dateFrom"],
                date_to=period.validated_data["dateTo"],
                at=timezone.now(),
            )
        except gate.Refused as refusal:
            return _refused(request, refusal)
        return Response(
            {"account": {"resourceId": str(resource_id)}, "transactions": {"booked": result.rows}}
        )
