"""The demo's third party (`make run`): a fictional budgeting app, registered with its
client, with a request waiting for demo customer 100001 (`load_demo_access`)."""

import datetime as dt

from oauth2_provider.models import Application

from banking.models import Account

from . import actions
from .models import DataUser, Permission
from .texts import PAYMENT_ACCOUNT_KINDS

DEMO_CLIENT_ID = "demo-budgetkompas"
# Published, like the demo's passwords: only ever in DEMO_MODE.
DEMO_CLIENT_SECRET = "demo-budgetkompas-secret-" + "0" * 24
DEMO_CUSTOMER = "100001"


def load_demo_data_user(*, now: dt.datetime) -> Permission | None:
    """Budgetkompas and its request for 100001's payment account; None when 100001 has none."""
    account = (
        Account.objects.filter(
            customer__customer_number=DEMO_CUSTOMER, kind__in=PAYMENT_ACCOUNT_KINDS
        )
        .order_by("iban")
        .first()
    )
    if account is None:
        return None
    application = Application(
        name="Budgetkompas",
        client_id=DEMO_CLIENT_ID,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=DEMO_CLIENT_SECRET,
        algorithm="",
    )
    application.save()
    data_user = DataUser.objects.create(
        name="Budgetkompas",
        registration_number="PSD2-NL-DEMO-0042",
        country="NL",
        contact="privacy@budgetkompas.example",
        application=application,
        registered_at=now,
    )
    return actions.request_permission(
        data_user=data_user,
        all_accounts=False,
        ibans=[account.iban],
        balances=True,
        transactions=True,
        valid_until=(now + dt.timedelta(days=90)).date(),
        frequency_per_day=4,
        reason="Uw uitgaven per maand in een overzicht, zodat u ziet waar uw geld heen gaat",
        redirect_uri="",
        at=now,
    )
