"""Random consent histories for property tests: steps a customer, the bank or time can
take, applied through the real services (a refused step writes nothing and is a step
too)."""

import datetime as dt

from hypothesis import strategies as st

from consent.choices import ChoiceError, lift_objection, stop_all_offers
from ledger.models import Action, Channel
from tests.choices import choose_on_screen
from tests.factories import CustomerFactory, publish_version
from tests.legacy import legacy_grant

OFFERS = ("offers_spending", "offers_income", "offers_balance")

# (kind, which customer or how many days, which purpose)
step = st.one_of(
    st.tuples(
        st.sampled_from(["grant", "withdraw", "legacy_grant"]),
        st.integers(0, 2),
        st.sampled_from(OFFERS),
    ),
    st.tuples(st.sampled_from(["stop_all", "lift"]), st.integers(0, 2), st.none()),
    st.tuples(
        st.sampled_from(["material_version", "minor_version"]), st.none(), st.sampled_from(OFFERS)
    ),
    st.tuples(st.just("days_pass"), st.integers(1, 800), st.none()),
)


def three_customers():
    """Two adults and one who turns 16 during a walk that starts in November 2026."""
    return [
        CustomerFactory(),
        CustomerFactory(),
        CustomerFactory(birth_date=dt.date(2010, 12, 1)),
    ]


def apply_step(kind, who, code, customers, *, at, clock, channel=Channel.WEB):
    """One step at `at`; "days_pass" shifts the (time-machine) `clock`."""
    customer = customers[who] if kind not in ("days_pass",) and who is not None else None
    try:
        if kind == "days_pass":
            clock.shift(dt.timedelta(days=who))
        elif kind == "grant":
            choose_on_screen(customer, code, Action.GRANTED, at=at, channel=channel)
        elif kind == "withdraw":
            choose_on_screen(customer, code, Action.WITHDRAWN, at=at, channel=channel)
        elif kind == "legacy_grant":  # older code: no age or objection check
            legacy_grant(customer, code, at=at)
        elif kind == "stop_all":
            stop_all_offers(customer=customer, channel=channel, actor=customer.user, at=at)
        elif kind == "lift":
            lift_objection(customer=customer, channel=channel, actor=customer.user, at=at)
        else:  # fresh titles: they have a maximum length
            material = kind == "material_version"
            publish_version(code, material=material, at=at, title_nl="Nieuw", title_en="New")
    except ChoiceError:
        pass
