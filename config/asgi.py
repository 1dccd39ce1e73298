import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()

# A host whose chain key is not the ledger's refuses to start (ledger/keys.py).
from ledger.keys import check_chain_key_at_start  # noqa: E402

check_chain_key_at_start()
