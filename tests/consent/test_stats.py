import datetime as dt

from consent.charts import weekly_chart_svg
from consent.stats import consent_overview, weekly_choices
from ledger.models import Action
from tests.conftest import NOW
from tests.factories import CustomerFactory, publish_version

TODAY = dt.date(2026, 11, 2)  # a Monday
AT = NOW


def test_the_overview_counts_every_customer_once_per_purpose(db, choose, now):
    granted, withdrew, expired, _never_chose = (CustomerFactory() for _ in range(4))
    choose(granted, "offers_spending", days_ago=3)
    choose(withdrew, "offers_spending", days_ago=20)
    choose(withdrew, "offers_spending", Action.WITHDRAWN, days_ago=2)
    choose(expired, "offers_spending", days_ago=800)
    choose(granted, "offers_income", days_ago=1)

    figures = {f.code: f for f in consent_overview(at=AT)}

    spending = figures["offers_spending"]
    assert (
        spending.granted,
        spending.needs_renewal,
        spending.withdrawn,
        spending.never_chosen,
    ) == (
        1,
        1,
        1,
        1,
    )
    income = figures["offers_income"]
    assert (income.granted, income.never_chosen) == (1, 3)
    assert figures["offers_balance"].never_chosen == 4
    assert "payments" not in figures


def test_a_material_version_moves_granted_consents_to_needing_renewal(db, choose, now):
    customer = CustomerFactory()
    choose(customer, "offers_balance", days_ago=5)
    publish_version("offers_balance", material=True, at=now - dt.timedelta(days=1))
    balance = next(f for f in consent_overview(at=AT) if f.code == "offers_balance")
    assert (balance.granted, balance.needs_renewal) == (0, 1)


def test_weekly_choices_count_grants_and_withdrawals_per_week_with_empty_weeks(db, choose):
    customer = CustomerFactory()
    choose(customer, "offers_spending", days_ago=14)  # Mon 19 Oct
    choose(customer, "offers_spending", Action.WITHDRAWN, days_ago=12)  # Wed 21 Oct
    choose(customer, "offers_spending", days_ago=0)  # Mon 2 Nov

    weeks = weekly_choices(purpose_code="offers_spending", weeks=3, until=TODAY)

    assert [(w.starts_on, w.granted, w.withdrawn) for w in weeks] == [
        (dt.date(2026, 10, 19), 1, 1),
        (dt.date(2026, 10, 26), 0, 0),
        (dt.date(2026, 11, 2), 1, 0),
    ]


def test_the_chart_is_plain_svg_with_escaped_labels(db):
    weeks = weekly_choices(purpose_code="offers_spending", weeks=4, until=TODAY)
    svg = weekly_chart_svg(weeks, title="<script>", granted_label="aan", withdrawn_label="uit")
    assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg
    assert "style" not in svg
