"""`/api/v1/`: the customer's endpoints under `me/`, the feed for the bank's systems, the
OAuth 2.0 endpoints, the schema and its documentation page."""

from django.urls import include, path, re_path, register_converter
from oauth2_provider import urls as oauth2_urls

from . import access_views, authorize, docs, problems, views


class IdConverter:
    """A database id: digits that fit a bigint. Anything else is the JSON 404 below."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")

# Authorize, token and revoke only. No introspection (RFC 7662): it would tell any client
# holding a secret whose token it is (the customer number); our API is the only server
# that reads these tokens, and it needs no endpoint to ask. No device flow, no
# self-service application pages. Authorize is the toolkit's view with our page's context
# (api.authorize).
OAUTH_ENDPOINTS = ("token", "revoke-token")
oauth_patterns = (
    [
        path("authorize/", authorize.AuthorizationView.as_view(), name="authorize"),
        *[url for url in oauth2_urls.base_urlpatterns if url.name in OAUTH_ENDPOINTS],
    ],
    "oauth2_provider",
)

urlpatterns = [
    path("oauth/", include(oauth_patterns)),
    path("schema/", docs.SchemaView.as_view(), name="api_schema"),
    path("docs/", docs.DocsView.as_view(), name="api_docs"),
    path("me/purposes", views.DashboardView.as_view(), name="api_purposes"),
    path("me/purposes/<str:code>", views.PurposeView.as_view(), name="api_purpose"),
    path("me/purposes/<str:code>/choice", views.ChoiceView.as_view(), name="api_choice"),
    path("me/stop-all", views.StopAllView.as_view(), name="api_stop_all"),
    path("me/objection/lift", views.LiftObjectionView.as_view(), name="api_lift_objection"),
    path("me/history", views.HistoryView.as_view(), name="api_history"),
    path("me/history/<id:event_id>/receipt", views.ReceiptView.as_view(), name="api_receipt"),
    path("me/export", views.ExportView.as_view(), name="api_export"),
    path("me/offers", views.OffersView.as_view(), name="api_offers"),
    path("me/data-use", views.DataUseView.as_view(), name="api_data_use"),
    path(
        "me/offers/<id:offer_id>/answer", views.AnswerOfferView.as_view(), name="api_answer_offer"
    ),
    path("purposes", views.PurposesView.as_view(), name="api_purpose_list"),
    path(
        "customers/<str:customer_number>/may-use/<str:code>",
        views.MayUseView.as_view(),
        name="api_may_use",
    ),
    path("consent-changes", views.ConsentChangesView.as_view(), name="api_consent_changes"),
    path(
        "purposes/<str:code>/valid-customers",
        views.ValidCustomersView.as_view(),
        name="api_valid_customers",
    ),
    # Data users (third parties): Berlin Group consents and reads (api/access_views.py).
    path("consents", access_views.ConsentsView.as_view(), name="api_access_consents"),
    path(
        "consents/changes",
        access_views.ConsentChangesView.as_view(),
        name="api_access_consent_changes",
    ),
    path(
        "consents/<uuid:consent_id>",
        access_views.ConsentView.as_view(),
        name="api_access_consent",
    ),
    path(
        "consents/<uuid:consent_id>/status",
        access_views.ConsentStatusView.as_view(),
        name="api_access_consent_status",
    ),
    path("accounts", access_views.AccountsView.as_view(), name="api_access_accounts"),
    path(
        "accounts/<uuid:resource_id>/balances",
        access_views.BalancesView.as_view(),
        name="api_access_balances",
    ),
    path(
        "accounts/<uuid:resource_id>/transactions",
        access_views.TransactionsView.as_view(),
        name="api_access_transactions",
    ),
    path("problems/", problems.problem_types, name="api_problems"),
    path("problems/<str:slug>", problems.problem_type, name="api_problem"),
    # Everything else, the rest captured so that a logged path shows none of it.
    re_path(r"^(?P<rest>.*)$", problems.not_found),
]
