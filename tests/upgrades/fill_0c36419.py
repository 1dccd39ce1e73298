"""Fill a database made at commit 0c36419 (the layout before ledger/infra/banking/lifecycle)
so that every table holds rows. Run by `make_fixture.sh` inside a checkout of that commit,
with that commit's code: the names imported here are the ones it had (`consent.services`,
`offers.models.Transaction`, `config.database`, ...), not today's. Never run by the tests.

    python fill_0c36419.py data      # after `migrate` and `load_demo`
    python fill_0c36419.py lost      # after `backup`: choices the restore will lose
    python fill_0c36419.py after     # after `restore`: a chain removed by retention, ...
"""

import datetime as dt
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.getcwd())  # the old checkout, not this file's folder
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.admin.models import CHANGE, LogEntry  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

User = get_user_model()
NOW = timezone.now()


def customer(number):
    from consent.models import Customer

    return Customer.objects.get(customer_number=number)


def staff(username):
    return User.objects.get(username=username)


def choose(who, purpose_code, action="granted", *, at=None, channel="web"):
    from consent.services import notice_on_screen, record_choice

    at = at or timezone.now()
    return record_choice(
        customer=who,
        purpose_code=purpose_code,
        action=action,
        channel=channel,
        actor=who.user,
        at=at,
        **notice_on_screen(purpose_code=purpose_code, at=at),
    )


def owner_sql(statement, params=()):
    from config.database import OWNER_ROLE, PGDATA, embedded_password

    with psycopg.connect(
        host=str(PGDATA),
        user=OWNER_ROLE,
        password=embedded_password(OWNER_ROLE),
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    ) as conn:
        conn.execute(statement, params)


def data():
    from consent import services
    from consent.staff import act_for_customer
    from offers import review, tasks
    from offers.customer import answer_offer
    from offers.models import Account, FollowUp, Offer, Transaction
    from offers.transitions import change_follow_up
    from tests.factories import publish_version

    # An engine run (its chunk, offers, their events and the consents relied on, the
    # data-use log), reviewed: approved, rejected; answered by customers; followed up.
    call_command("generate_offers", verbosity=0)
    reviewer, caller = staff("reviewer"), staff("klantenservice")
    proposed = list(Offer.objects.filter(status="proposed").order_by("pk"))
    review.approve(offer_ids=[o.pk for o in proposed[:-1]], reviewer=reviewer, at=NOW)
    review.reject(offer_ids=[proposed[-1].pk], reviewer=reviewer, reason="niet passend", at=NOW)
    approved = list(Offer.objects.filter(status="approved").order_by("pk"))
    answer_offer(approved[0].customer, approved[0].pk, answer="interested", at=NOW)
    answer_offer(approved[1].customer, approved[1].pk, answer="dismiss", at=NOW)
    follow_up = FollowUp.objects.get(offer=approved[0])
    change_follow_up(follow_up_id=follow_up.pk, to="open", owner=caller, actor=caller, at=NOW)
    change_follow_up(
        follow_up_id=follow_up.pk, to="called", owner=caller, actor=caller, at=NOW, note="gebeld"
    )
    # The next day's run queued for the workers (django-tasks-db), not taken yet.
    tasks.start_run(as_of=NOW.date() + dt.timedelta(days=1), now=NOW, started_by=reviewer)

    # The contact centre records a choice for a customer (a staff action next to the event).
    daan = customer("100002")
    notice = services.notice_on_screen(purpose_code="offers_income", at=NOW)
    act_for_customer(
        customer=daan,
        staff=caller,
        action="granted",
        channel="phone",
        identity_checked=True,
        note="klant belde zelf",
        at=NOW,
        purpose_code="offers_income",
        **notice,
    )
    # The objection and its lifting; an erasure request.
    tess = customer("100007")
    services.stop_all_offers(customer=tess, channel="web", actor=tess.user, at=NOW)
    services.lift_objection(customer=tess, channel="web", actor=tess.user, at=NOW)
    noor = customer("100005")
    services.request_erasure(customer=noor, channel="web", actor=noor.user, at=NOW)
    # A second version of a notice, published by a privacy officer.
    publish_version("offers_balance", material=False, at=NOW)

    # A transaction in every monthly partition that has none (the migration made them for
    # 2025-2027), on one account.
    account = Account.objects.order_by("pk").first()
    for year in (2025, 2026, 2027):
        for month in range(1, 13):
            booked_at = dt.datetime(year, month, 15, 12, tzinfo=dt.UTC)
            start = booked_at.replace(day=1)
            end = (start + dt.timedelta(days=32)).replace(day=1)
            if not Transaction.objects.filter(booked_at__gte=start, booked_at__lt=end).exists():
                Transaction.objects.create(
                    account=account,
                    transaction_id=f"fixture-{year}-{month:02}",
                    booked_at=booked_at,
                    amount=Decimal("-12.50"),
                    currency="EUR",
                    counterparty_name="Bakkerij",
                    mcc="5462",
                    country="NL",
                    description="brood",
                )

    # The API: two clients with four eyes (one change rejected), tokens of every kind, the
    # feed read by the bank's systems, the customer API used by the app.
    api_clients_and_tokens()

    # Staff: a second factor, an activation code, an admin log entry, a permission given
    # to a user directly (the admin allows it, even if the groups are the rule).
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=reviewer, name="telefoon", confirmed=True)
    call_command("issue_staff_activation", "toegang", stdout=open(os.devnull, "w"))  # noqa: SIM115
    LogEntry.objects.create(
        user=reviewer,
        content_type=ContentType.objects.get(app_label="offers", model="offer"),
        object_id=str(proposed[-1].pk),
        object_repr=str(proposed[-1]),
        action_flag=CHANGE,
        change_message="Afgewezen",
    )
    caller.user_permissions.add(
        Permission.objects.get(content_type__app_label="offers", codename="view_followup")
    )

    # Logins: a failed one (axes: the attempt, its expiry and the failure log, which the
    # settings leave off but whose tables exist) and a good one (access log, session).
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True
    settings.AXES_USE_ATTEMPT_EXPIRATION = True
    browser = Client()
    browser.post("/accounts/login/", {"username": "100001", "password": "wrong"})
    browser.post("/accounts/login/", {"username": "100004", "password": "demo-privacy-2026"})
    browser.get("/")

    # A customer leaves: everything withdrawn by the system, the `left` event.
    milan = customer("100006")
    services.close_customer(customer=milan, on=NOW.date(), at=NOW)
    call_command("checkpoint_ledger", verbosity=0)


def api_clients_and_tokens():
    import secrets

    from oauth2_provider.models import (
        AccessToken,
        DeviceGrant,
        Grant,
        IDToken,
        RefreshToken,
        set_token_value,
    )
    from rest_framework.test import APIClient

    from api.clients import (
        approve_client_change,
        propose_client,
        propose_redirect_uris,
        reject_client_change,
    )

    privacy, privacy2 = staff("privacy"), staff("privacy2")
    crm = propose_client(name="CRM", kind="system", redirect_uris=[], by=privacy, at=NOW)
    crm_app = approve_client_change(change_id=crm.change.pk, by=privacy2, at=NOW)
    app = propose_client(
        name="Voorbeeldbank app",
        kind="app",
        redirect_uris=["nl.voorbeeldbank.app:/oauth/callback"],
        by=privacy,
        at=NOW,
    )
    bank_app = approve_client_change(change_id=app.change.pk, by=privacy2, at=NOW)
    change = propose_redirect_uris(
        application_id=bank_app.pk,
        redirect_uris=["nl.voorbeeldbank.app:/oauth/other"],
        by=privacy2,
        at=NOW,
    )
    reject_client_change(change_id=change.pk, by=privacy, at=NOW)

    def token(application, *, user=None, scope):
        raw = secrets.token_urlsafe(30)
        access = AccessToken(
            application=application,
            user=user,
            scope=scope,
            expires=NOW + dt.timedelta(hours=1),
        )
        set_token_value(access, raw)
        access.save()
        return raw, access

    sanne = customer("100001")
    feed_token, _ = token(crm_app, scope="consent:feed")
    app_token, access = token(bank_app, user=sanne.user, scope="consent:read consent:choose")
    RefreshToken.objects.create(
        user=sanne.user, application=bank_app, token="refresh-" + "r" * 40, access_token=access
    )
    Grant.objects.create(
        user=sanne.user,
        application=bank_app,
        code="code-" + "c" * 40,
        expires=NOW + dt.timedelta(minutes=1),
        redirect_uri="nl.voorbeeldbank.app:/oauth/callback",
        scope="consent:read",
        code_challenge="x" * 43,
        code_challenge_method="S256",
    )
    IDToken.objects.create(
        user=sanne.user, application=bank_app, expires=NOW + dt.timedelta(hours=1)
    )
    DeviceGrant.objects.create(
        client_id=bank_app.client_id,
        device_code="device-" + "d" * 20,
        user_code="USER-CODE",
        expires=NOW + dt.timedelta(minutes=10),
        interval=5,
        scope="consent:read",
    )
    systems = APIClient()
    systems.credentials(HTTP_AUTHORIZATION=f"Bearer {feed_token}")
    assert systems.get("/api/v1/consent-changes").status_code == 200
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {app_token}")
    assert phone.get("/api/v1/me/purposes").status_code == 200


def lost():
    """Choices after the backup: the checkpoint host's files know them, the restored
    database will not."""
    choose(customer("100001"), "offers_income")
    choose(customer("100004"), "offers_spending")
    call_command("checkpoint_ledger", verbosity=0)


def after():
    """After the restore: a choice made again; the chain of the customer who left removed
    by retention (five years later, on the database's own clock) with its tombstone, and
    the feed rows that tombstone covers; a checkpoint that signs the tombstone; an index
    suspension left behind by a bulk load from before the partitions."""
    choose(customer("100001"), "offers_income")
    call_command("checkpoint_ledger", verbosity=0)
    milan = customer("100006")
    later = milan.closed_on.replace(year=milan.closed_on.year + 5) + dt.timedelta(days=1)
    owner_sql("INSERT INTO retention_clock (today) VALUES (%s)", [later])
    with connection.cursor() as cursor:
        cursor.execute("SELECT remove_consent_proof(%s, %s)", [milan.pk, later])
        cursor.execute("SELECT remove_consent_changes(%s)", [milan.pk])
    call_command("checkpoint_ledger", verbosity=0)
    owner_sql(
        "INSERT INTO suspended_index (table_name, definition) VALUES (%s, %s)",
        [
            "offers_transaction",
            "CREATE INDEX offers_transaction_account_booked"
            " ON public.offers_transaction (account_id, booked_at)",
        ],
    )


if __name__ == "__main__":
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    {"data": data, "lost": lost, "after": after}[sys.argv[1]]()
