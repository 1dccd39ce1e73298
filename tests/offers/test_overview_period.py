"""The privacy overview over a period of the officer's choosing, with stop-alls and
objections counted."""

import datetime as dt

import pytest
from django.utils import timezone

from consent.choices import lift_objection, stop_all_offers
from ledger.models import Channel
from offers.overview import privacy_overview
from tests.factories import CustomerFactory

from .factories import make_offer

OVERVIEW = "/admin/offers/offer/overview/"


@pytest.fixture
def history(db, choose, now):
    """Three customers stopped everything: 40 days ago (lifted 30 days ago), 10 days ago
    and yesterday. Offers were made 60 and 5 days ago."""

    def ago(days):
        return now - dt.timedelta(days=days)

    a, b, c, d = (CustomerFactory(customer_number=f"56000{n}") for n in range(1, 5))
    for customer in (a, b, c, d):
        choose(customer, "offers_spending", at=ago(100))
    make_offer(d, now=ago(60), status="expired")
    make_offer(d, now=ago(5))
    for customer, days in ((a, 40), (b, 10), (c, 1)):
        stop_all_offers(customer=customer, channel=Channel.WEB, actor=customer.user, at=ago(days))
    lift_objection(customer=a, channel=Channel.WEB, actor=a.user, at=ago(30))
    return now


def test_the_overview_counts_stop_alls_and_objections_in_the_period(history):
    today = timezone.localdate(history)
    whole = privacy_overview(at=history, language="nl", since=today - dt.timedelta(days=50))
    assert (whole.objections.stop_alls, whole.objections.lifted) == (3, 1)
    assert whole.objections.standing == 2
    recent = privacy_overview(at=history, language="nl", since=today - dt.timedelta(days=14))
    assert (recent.objections.stop_alls, recent.objections.lifted) == (2, 0)
    assert recent.objections.standing == 2  # a state, not a count of the period


def test_the_period_limits_the_funnel_and_the_charts(history):
    today = timezone.localdate(history)
    month = privacy_overview(at=history, language="nl", since=today - dt.timedelta(days=30))
    (travel,) = [row for row in month.funnel if row.product_code == "travel_insurance_world"]
    assert (travel.counts["proposed"], travel.counts["expired"]) == (1, 0)
    quarter = privacy_overview(at=history, language="nl", since=today - dt.timedelta(days=90))
    (travel,) = [row for row in quarter.funnel if row.product_code == "travel_insurance_world"]
    assert (travel.counts["proposed"], travel.counts["expired"]) == (2, 1)
    spending = next(p for p in month.purposes if p.figures.code == "offers_spending")
    assert (
        spending.weeks[0].starts_on
        <= today - dt.timedelta(days=30)
        < (spending.weeks[0].starts_on + dt.timedelta(days=7))
    )
    assert sum(w.withdrawn for w in spending.weeks) == 2  # b and c stopped all in the month


def test_the_page_takes_the_period_from_the_date_fields(client, privacy_officer, history):
    today = timezone.localdate(history)
    client.force_login(privacy_officer)
    since = (today - dt.timedelta(days=14)).isoformat()
    html = client.get(OVERVIEW, {"since": since, "until": today.isoformat()}).content.decode()
    assert f'name="since" id="period-since" value="{since}"' in html
    assert '<td class="number stop-alls">2</td>' in html
    assert '<td class="number standing">2</td>' in html
    assert '<th scope="col" class="number">Gebeld</th>' in html


@pytest.mark.parametrize("since", ["2026-02-30", "gisteren", ""])
def test_a_date_that_is_no_date_falls_back_to_the_last_26_weeks(
    client, privacy_officer, history, since
):
    client.force_login(privacy_officer)
    response = client.get(OVERVIEW, {"since": since, "until": "2099-01-01"})
    assert response.status_code == 200
    overview = response.context["overview"]
    assert overview.until == timezone.localdate(history)  # never past today
    assert len(overview.purposes[0].weeks) == 26
