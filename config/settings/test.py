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
LEDGER_SIGNING_KEY = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
