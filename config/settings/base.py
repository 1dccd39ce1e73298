"""Settings shared by every environment. Environment files only override."""

import ipaddress
import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.clientip import trusted_proxy_count
from config.env import env_bool, env_int, env_list
from infra.database import database_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# No fallback here: only config.settings.dev has one. An empty key stops Django.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "config.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "pgtrigger",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "infra",
    "config.staff_otp",
    "config.scheduler",
    "ledger",
    "consent",
    "lifecycle",
    "banking",
    "offers",
    "access",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Idle and absolute session limits; before OTPMiddleware, which wraps the user it sees.
    "config.sessions.session_limits",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it sees the outcome of authentication (django-axes' contract).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# The customers' pages are Jinja2 (`jinja/`, config/jinja2.py: the CPU of a page is
# most of its cost); the admin and the staff's pages Django's own (`templates/`). A name
# is looked up in that order.
CONTEXT_PROCESSORS = [
    "django.template.context_processors.request",
    "django.template.context_processors.csp",
    "django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages",
    "django.template.context_processors.i18n",
]
TEMPLATES = [
    {
        "BACKEND": "config.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja"],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "config.jinja2.environment",
            # Not the messages processor: Jinja2's backend would put it over the view's
            # own `messages` (the dashboard shows a card's message in that card).
            "context_processors": [
                *(p for p in CONTEXT_PROCESSORS if not p.startswith("django.contrib.messages")),
                "config.jinja2.csrf",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": CONTEXT_PROCESSORS},
    },
]

DATABASES = {"default": database_settings()}
# Statements run again on a connection are prepared on it, so the server plans them once
# (infra/prepared.py). Off (`false`) behind a pooler that hands one connection's
# statements to several server sessions (PgBouncer in transaction mode).
DATABASE_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out login is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "consent.backends.CustomerBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# The client address is the one the trusted proxy saw (config/clientip.py): the number
# of proxies in front that append to X-Forwarded-For; 0 = use the connection's address.
TRUSTED_PROXY_COUNT = trusted_proxy_count()

# Login throttling (config/login.py): after 5 failures for a username from an address,
# that pair is locked for 15 minutes (the right password does not get through meanwhile);
# failures elsewhere do not lock the customer out. One address may fail 30 times in the
# same window across all usernames, then it is refused whatever the username.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "config.clientip.request_client"
AXES_USERNAME_CALLABLE = "config.login.axes_username"
AXES_USERNAME_FORM_FIELD = "username"  # axes' default: the user model's USERNAME_FIELD
AXES_CLIENT_STR_CALLABLE = "config.login.axes_client_str"
LOGIN_ADDRESS_FAILURE_LIMIT = 30

# Sessions (config/sessions.py): 15 minutes idle, 8 hours at most, a browser-session cookie.
# Django's database store, its read compiled once per process (infra/sessions.py).
SESSION_ENGINE = "infra.sessions"
SESSION_IDLE_SECONDS = 15 * 60
SESSION_MAX_SECONDS = 8 * 60 * 60
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Erasure on request asks for the password again unless the customer logged in this
# recently (consent/forms.py): enough to log in and read what goes and what stays, too
# short for someone who finds a session left open (idle limit 15 minutes) to erase with
# one click.
RECENT_LOGIN_SECONDS = 5 * 60
OTP_TOTP_ISSUER = "Voorbeeldbank"

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
# Ours (English; Dutch is the source), then the Dutch of what Django and the third-party
# apps leave in English in the admin (config/admin_names.py says how they are named).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_third_party"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Strict CSP: nothing inline, nothing from elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, never from the cookie

# `default` is what every host shares in production (config/settings/production.py: the
# database), so that what it counts (the API's rate limits) counts every host's requests;
# here, one process's memory. The pages cache nothing (Jinja2 renders them whole).
CACHES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "shared",
    },
}

# Demo data (published passwords) may be loaded only where this is true: dev and test.
DEMO_MODE = False
# Staff sign in to /admin/ with a password and a TOTP code (django-otp).
STAFF_OTP_REQUIRED = True
# Enrolling an authenticator takes a one-time activation code from someone else
# (config/staff_otp); it lasts a working day.
STAFF_ACTIVATION_HOURS = 8
# No key or QR code of anyone's authenticator in the admin, not even for a superuser.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Consent rules (docs/ledger.md) ---
CONSENT_MAX_AGE_DAYS = env_int("CONSENT_MAX_AGE_DAYS", default=730, minimum=1)
CONSENT_MIN_AGE_YEARS = 16
CONSENT_JURISDICTION = "NL"

# The ledger's keys live outside the database (ledger/keys.py): the chain's HMAC key (every
# host that records choices), the Ed25519 key that signs the log's checkpoints (only the
# checkpoint host), and the public keys everyone verifies with, pinned here.
# `manage.py ledger_keys` makes the files for one machine (`make run`, `make serve`).
LEDGER_HMAC_KEY = os.environ.get("LEDGER_HMAC_KEY")
LEDGER_HMAC_KEY_FILE = os.environ.get("LEDGER_HMAC_KEY_FILE", BASE_DIR / ".ledger_hmac_key")
LEDGER_HMAC_RETIRED_KEYS = os.environ.get("LEDGER_HMAC_RETIRED_KEYS")
# The log's name in its checkpoints (C2SP tlog-checkpoint origin) and its keys' name.
LEDGER_ORIGIN = os.environ.get("LEDGER_ORIGIN", "voorbeeldbank.example/consent-ledger")
LEDGER_SIGNING_KEY = os.environ.get("LEDGER_SIGNING_KEY")
LEDGER_SIGNING_KEY_FILE = os.environ.get(
    "LEDGER_SIGNING_KEY_FILE", BASE_DIR / ".ledger_signing_key"
)
LEDGER_PUBLIC_KEY = os.environ.get("LEDGER_PUBLIC_KEY")
LEDGER_PUBLIC_KEY_FILE = os.environ.get("LEDGER_PUBLIC_KEY_FILE", BASE_DIR / ".ledger_public_key")
# Witnesses at other organisations: their verifier keys (pinned; the verifier requires
# each one's cosignature) and, for the checkpoint host, where to ask them.
LEDGER_WITNESS_KEYS = env_list("LEDGER_WITNESS_KEYS")
LEDGER_WITNESS_URLS = env_list("LEDGER_WITNESS_URLS")
# The newest checkpoint must be younger than this (checkpoints are made every few
# minutes; the verifier fails on a log that stopped being checkpointed or witnessed).
LEDGER_CHECKPOINT_MAX_AGE_SECONDS = env_int(
    "LEDGER_CHECKPOINT_MAX_AGE_SECONDS", default=2 * 3600, minimum=60
)
# Where the checkpoint host also writes each checkpoint as a file (publish it from there).
LEDGER_CHECKPOINT_DIR = Path(os.environ.get("LEDGER_CHECKPOINT_DIR", BASE_DIR / ".checkpoints"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# --- Offers engine (docs/gate.md) ---
from decimal import Decimal  # noqa: E402

# A checking account balance at or above this (EUR) makes the savings rule fire.
OFFERS_SAVINGS_THRESHOLD = Decimal(os.environ.get("OFFERS_SAVINGS_THRESHOLD", "10000.00"))
# IBANs of student finance (DUO) besides the name match; comma-separated in the environment.
OFFERS_STUDENT_FINANCE_IBANS = [
    iban for iban in os.environ.get("OFFERS_STUDENT_FINANCE_IBANS", "").split(",") if iban
]
# How long an offer stays valid after its as-of date, and how long a dismissed, accepted
# or rejected offer keeps the engine from suggesting that product again.
OFFERS_VALID_DAYS = 60
OFFERS_COOLDOWN_DAYS = 180

# --- API and change feed ---
INSTALLED_APPS += [
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",  # before oauth2_provider: its consent screen is our template
    "oauth2_provider",
]
# Scopes separate reading from choosing; the feed scope belongs to the bank's systems
# (client credentials) only. `api.oauth` keeps each scope to its kind of client.
API_SCOPES = {
    "consent:read": _("Uw privacykeuzes, uw geschiedenis en uw aanbiedingen lezen"),
    "consent:choose": _("Namens u kiezen: toestemming geven of intrekken, bezwaar maken"),
    "consent:feed": _("Wijzigingen in toestemmingen volgen (systemen van de bank)"),
    "consent:check": _("Per klant nagaan of een doel nu mag (systemen van de bank)"),
    # A data user's client (access.DataUser): the customer's permitted accounts only.
    "psd2:ais": _("Met toestemming van de klant diens betaalrekeningen lezen (andere partijen)"),
}
# Where a client may send the customer back to (api/redirects.py): by default only the
# bank's own app, on its private-use scheme (RFC 8252). Production reads the list from the
# environment (OAUTH_REDIRECT_URI_ALLOWLIST), strictly; `make run` adds the demo's.
APP_REDIRECT_SCHEME = "nl.voorbeeldbank.app"
OAUTH_REDIRECT_URI_ALLOWLIST = [f"{APP_REDIRECT_SCHEME}:"]
OAUTH2_PROVIDER = {
    "SCOPES": API_SCOPES,
    "DEFAULT_SCOPES": ["consent:read"],
    "OAUTH2_VALIDATOR_CLASS": "api.oauth.ConsentOAuth2Validator",
    "SCOPES_BACKEND_CLASS": "api.oauth.ScopesByClientKind",
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    # A refresh token used twice means it leaked: the whole token family is revoked.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # The bank's app receives the code on its own URI scheme (RFC 8252); web clients on https.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", APP_REDIRECT_SCHEME],
    "REQUEST_APPROVAL_PROMPT": "auto",
    # Clients are read-only in the admin: they change by proposals, with four eyes.
    "APPLICATION_ADMIN_CLASS": "api.admin.ApplicationAdmin",
    # RFC 9700 (OAuth 2.0 Security BCP), all of it: no implicit or password grant, PKCE
    # with S256 only, tokens never in a query string, `iss` in the authorization
    # response, tokens stored only as hashes, and the configuration checks as errors.
    **{
        f"COMPLIANT_BCP_RFC9700_{gate}": True
        for gate in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    },
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BearerTokenAuthentication"],
    # Every view names its scopes; without them nothing gets through.
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.NoAccess"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    # Per token holder (the client and, for the app, the customer), per minute.
    "DEFAULT_THROTTLE_RATES": {
        "read": "120/min",
        "choose": "30/min",
        "feed": "600/min",
        "check": "1200/min",
    },
    "UNAUTHENTICATED_USER": None,
    # Every error as RFC 9457 problem details (api/problems.py).
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
}
# How long a POST's Idempotency-Key and its first answer are kept (`prune_idempotency_keys`):
# a retry within it gets the same answer and does nothing again.
IDEMPOTENCY_KEYS_KEPT_HOURS = env_int("IDEMPOTENCY_KEYS_KEPT_HOURS", default=24, minimum=24)
SPECTACULAR_SETTINGS = {
    "TITLE": "Mijn privacykeuzes API",
    "DESCRIPTION": (
        "The customer's consent for the bank's app (OAuth 2.0 authorization code with PKCE)"
        " and the consent change feed for the bank's systems (client credentials)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # api/urls.py's `id` converter: digits that fit a bigint, an integer to clients.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 10**18 - 1}
    },
    "ENUM_NAME_OVERRIDES": {
        "RefusalReasonEnum": "api.serializers.REFUSAL_REASONS",
        "OfferReasonEnum": "api.serializers.OFFER_REASONS",
        "ChannelEnum": "ledger.models.Channel.values",
    },
    "OAUTH2_FLOWS": ["authorizationCode", "clientCredentials"],
    "OAUTH2_AUTHORIZATION_URL": "/api/v1/oauth/authorize/",
    "OAUTH2_TOKEN_URL": "/api/v1/oauth/token/",
    "OAUTH2_REFRESH_URL": "/api/v1/oauth/token/",
    "OAUTH2_SCOPES": {
        "consent:read": "Read the customer's choices, history, export and offers",
        "consent:choose": "Choose for the customer: grant, withdraw, object, answer offers",
        "consent:feed": "Follow consent changes (the bank's systems; client credentials)",
        "consent:check": (
            "Ask, per customer, whether a purpose may be used now"
            " (the bank's systems; client credentials)"
        ),
        "psd2:ais": (
            "Read the payment accounts a customer approved, under their consent"
            " (data users, third parties; client credentials)"
        ),
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.docs.response_headers",
        "api.docs.examples",
        "api.docs.oauth_flows",
    ],
    # 3.1 for its `webhooks:` (api/docs.py).
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": ["api.docs.CONSENT_CHANGE_WEBHOOK"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Feed pages hold at most this many changes.
API_FEED_PAGE_MAX = 1000
# Webhooks (api/webhooks.py) go to https URLs on public addresses only, against SSRF; the
# bank's own receivers on internal networks are allowed by naming those networks (CIDR,
# comma or space separated). A bad entry stops the start.
try:
    WEBHOOK_ALLOWED_NETWORKS = [
        ipaddress.ip_network(entry) for entry in env_list("WEBHOOK_ALLOWED_NETWORKS")
    ]
except ValueError as error:
    raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS: {error}") from None
# Plain http to 127.0.0.1 and localhost (a receiver on the same machine): dev and tests.
WEBHOOK_ALLOW_LOCAL_HTTP = False

# --- Background tasks: engine runs on workers, the schedule ---
# Django's task framework with the database backend: a task is a row in PostgreSQL, and
# `python manage.py offers_worker` (as many as you like, on any machine that reaches the
# database) runs them as the runtime role. Another backend (RQ, Celery)
# replaces this setting only; `offers.tasks` uses nothing but `django.tasks`. Queues:
# `offers` (chunks of runs), `schedule` (config/schedule.py's jobs, on every worker host),
# `checkpoint` (its jobs that need the ledger's keys: the checkpoint host only).
INSTALLED_APPS += ["django_tasks_db"]
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "offers", "schedule", "checkpoint"],
    }
}
# Customers per chunk of a run on workers (a chunk is one task, one transaction); each
# chunk reads its customers' transactions through the index, so smaller chunks spread
# better over workers and larger ones waste less on per-statement overhead.
OFFERS_CHUNK_SIZE = env_int("OFFERS_CHUNK_SIZE", default=25_000, minimum=1)
# A chunk that failed (an error, or its worker died) is tried again up to this many times
# in all before the run is marked failed (a rerun resumes it).
OFFERS_CHUNK_MAX_ATTEMPTS = env_int("OFFERS_CHUNK_MAX_ATTEMPTS", default=3, minimum=1)
# How often a run on workers is looked after: chunks whose worker died are queued again,
# and the run is finished or failed when its last chunk ends.
OFFERS_RUN_SUPERVISE_SECONDS = env_int("OFFERS_RUN_SUPERVISE_SECONDS", default=30, minimum=1)

# --- E-mail: service messages to customers (consent.advance_notices) ---
# Django's mailers (MAILERS, which replaces EMAIL_BACKEND from Django 6.1 on): the bank's
# SMTP relay here; a folder under `make run` (dev.py); tests get Django's locmem outbox.
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", default=25, minimum=1),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", default=False),
            "timeout": 30,
        },
    }
}
# The sender of every service message.
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Voorbeeldbank <privacy@voorbeeldbank.example>"
)
# Where the customer's pages are, for links in e-mails (no request to build them from).
CUSTOMER_SITE_URL = os.environ.get("CUSTOMER_SITE_URL", "http://localhost:8000")

# Sections other apps add to the customer's dashboard, in order: each a function
# `section(customer, *, at)` returning an object with the `template` to include (and what
# that template reads), or None (nothing to show). The dashboard imports them by name:
# consent knows none of those apps.
DASHBOARD_SECTIONS = ("access.dashboard.section",)
