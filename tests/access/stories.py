"""A customer who let a budgeting app read their account, and whom it read: made by the
real code (request, approval on the text shown, a gated read), for other apps' tests."""

import datetime as dt

from access import actions, gate
from access.models import DataUser, Permission
from access.texts import accounts_in_scope, approval_text
from ledger.models import Channel
from tests.access.conftest import register_data_user


def approved_and_read(
    customer, *, at: dt.datetime, data_user: DataUser | None = None
) -> Permission:
    data_user = data_user or register_data_user("Budgetkompas (verhaal)", at=at)
    permission = actions.request_permission(
        data_user=data_user,
        all_accounts=True,
        ibans=[],
        balances=True,
        transactions=True,
        valid_until=at.date() + dt.timedelta(days=90),
        frequency_per_day=4,
        reason="Uw uitgaven per maand in een overzicht",
        redirect_uri="",
        at=at,
    )
    accounts = accounts_in_scope(permission, actions.customer_accounts(customer))
    text = approval_text(permission, accounts=accounts, language=customer.language, at=at)
    permission = actions.approve(
        permission=permission,
        customer=customer,
        version=text.version,
        text_sha256=text.sha256,
        language=customer.language,
        channel=Channel.WEB,
        actor=customer.user,
        at=at,
    )
    gate.read(kind="accounts", data_user=data_user, consent_id=permission.consent_id, at=at)
    return permission
