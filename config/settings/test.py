import secrets

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

# A fresh key per test run: nothing signed by a test outlives it.
SECRET_KEY = secrets.token_urlsafe(50)
# The test flush (tests/management/commands/flush.py).
INSTALLED_APPS = [*INSTALLED_APPS, "tests"]
DEMO_MODE = True
# Admin tests log staff in directly; tests/test_otp.py switches the second factor on.
STAFF_OTP_REQUIRED = False

# Hashing demo passwords with PBKDF2 dominates test time; the algorithm is not under test.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    # For users who log in to a production-settings server started by a test.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
ALLOWED_HOSTS = ["*"]

# Fixed ledger keys for tests (never used anywhere else).
LEDGER_HMAC_KEY = "test-chain-key-not-secret"
LEDGER_ORIGIN = "voorbeeldbank.example/consent-ledger"
LEDGER_SIGNING_KEY = (
    "PRIVATE+KEY+voorbeeldbank.example/consent-ledger+247653fb"
    "+AZ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g"
)
LEDGER_PUBLIC_KEY = (
    "voorbeeldbank.example/consent-ledger+247653fb+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
)
LEDGER_WITNESS_KEYS = []
LEDGER_WITNESS_URLS = []
# Webhooks may go to a receiver on this machine over plain http (never in production).
WEBHOOK_ALLOW_LOCAL_HTTP = True
