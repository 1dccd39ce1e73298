"""Bad input at scale: arbitrary paths and form data against every customer
endpoint. Never a server error, never a write."""

from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.models import ConsentState
from ledger.models import ConsentEvent

PURPOSE_CODES = [
    "payments",
    "fraud_prevention",
    "offers_spending",
    "offers_income",
    "offers_balance",
]
VALID_CHOICES = {"grant", "withdraw"}

segment = st.one_of(
    st.sampled_from([*PURPOSE_CODES, "stop-all", "0", "-1", "999999999999", "v1", ""]),
    st.text(min_size=0, max_size=30),
).map(lambda s: quote(s, safe=""))

paths = st.one_of(
    st.builds("/choices/{}/".format, segment),
    st.builds("/history/{}/receipt.json".format, segment),
    st.builds("/purposes/{}/v{}/".format, segment, segment),
    st.builds("/offers/{}/dismiss/".format, segment),
    st.builds("/offers/{}/interested/".format, segment),
    st.sampled_from(
        ["/", "/history/", "/export/", "/export.json", "/offers/", "/choices/stop-all/"]
    ),
    st.builds("/{}".format, segment),
)
form_values = st.one_of(
    st.sampled_from(["grant", "withdraw", "GRANT", "", "grant\x00", "1", "true"]),
    st.text(max_size=50),
)
form_data = st.dictionaries(
    st.one_of(st.just("choice"), st.text(min_size=1, max_size=20)), form_values, max_size=4
)


def could_be_a_real_choice(method, path, data):
    """A well-formed choice writes, by design; everything else must not."""
    if method != "post":
        return False
    if path == "/choices/stop-all/":
        return True
    parts = path.strip("/").split("/")
    return (
        len(parts) == 2
        and parts[0] == "choices"
        and parts[1] in PURPOSE_CODES
        and data.get("choice") in VALID_CHOICES
    )


@pytest.fixture
def signed_in(customer_who_consented):
    client = Client(raise_request_exception=False)
    client.force_login(customer_who_consented.user)
    return client


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(method=st.sampled_from(["get", "post"]), path=paths, data=form_data, htmx=st.booleans())
def test_no_input_causes_a_server_error_or_an_unintended_write(signed_in, method, path, data, htmx):
    events, states = ConsentEvent.objects.count(), list(ConsentState.objects.values_list())
    headers = {"HX-Request": "true"} if htmx else {}

    response = getattr(signed_in, method)(path, data=data, headers=headers)

    assert response.status_code < 500, (method, path, data)
    if not could_be_a_real_choice(method, path, data):
        assert ConsentEvent.objects.count() == events, (method, path, data)
        assert list(ConsentState.objects.values_list()) == states


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=paths, data=form_data)
def test_a_forged_post_without_csrf_token_is_refused_and_writes_nothing(
    customer_who_consented, path, data
):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(customer_who_consented.user)
    events = ConsentEvent.objects.count()

    response = client.post(path, data=data)

    assert response.status_code in (403, 404, 405), path
    assert ConsentEvent.objects.count() == events
