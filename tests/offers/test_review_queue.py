"""A review queue that flows: it opens on what waits, oldest first,
shows what a reviewer decides on, and the detail page approves or rejects and moves on."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from offers.models import Offer

from .factories import make_offer

QUEUE = "/admin/offers/offer/"


def detail(offer):
    return f"{QUEUE}{offer.pk}/change/"


@pytest.fixture
def three_waiting(sanne, daan, student, now):
    """Three proposed offers, made five, three and one day(s) ago, and one approved."""
    oldest = make_offer(daan, rule="savings_account", now=now - dt.timedelta(days=5))
    middle = make_offer(sanne, now=now - dt.timedelta(days=3))
    newest = make_offer(student, rule="student_account", now=now - dt.timedelta(days=1))
    return oldest, middle, newest


def test_the_queue_opens_on_proposed_offers_oldest_first(client, reviewer, three_waiting, choose):
    approved = three_waiting[2]
    from offers import review

    review.approve(offer_ids=[approved.pk], reviewer=reviewer, at=timezone.now())
    client.force_login(reviewer)
    listed = list(client.get(QUEUE).context["cl"].result_list)
    assert listed == list(three_waiting[:2])
    everything = client.get(QUEUE, {"status": "all"}).context["cl"].result_list
    assert len(everything) == 3
    approved_only = client.get(QUEUE, {"status": "approved"}).context["cl"].result_list
    assert list(approved_only) == [approved]


def test_the_queue_shows_customer_product_banded_evidence_age_and_valid_until(
    client, reviewer, three_waiting
):
    oldest = three_waiting[0]
    client.force_login(reviewer)
    html = client.get(QUEUE).content.decode()
    row = re.search(
        r"<tr>.*?</tr>", html[html.index('id="result_list"') :].split("<tbody>")[1], re.S
    )
    cells = row.group(0)
    assert oldest.customer.customer_number in cells
    assert "Spaarrekening" in cells and "savings_account" not in cells
    assert "Saldo betaalrekening: boven de drempel van € 10.000" in cells
    assert "12.500" not in cells  # the customer's own balance is theirs
    assert "5 dagen" in cells
    assert "27 december 2026" in cells  # valid until: made 28 October, + 60 days
    columns = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)
    assert columns == [
        "customer_number",
        "product_name",
        "evidence",
        "waiting",
        "valid_until",
        "status",
    ]


def test_the_detail_page_approves_and_moves_on_to_the_next_proposed_offer(
    client, reviewer, three_waiting
):
    oldest, middle, _newest = three_waiting
    client.force_login(reviewer)
    page = client.get(detail(oldest)).content.decode()
    assert 'id="approve"' in page and 'id="reject"' in page

    response = client.post(f"{QUEUE}{oldest.pk}/approve/")

    assert response.status_code == 302 and response.url == detail(middle)
    oldest.refresh_from_db()
    assert (oldest.status, oldest.reviewed_by) == ("approved", reviewer)
    assert oldest.events.get(to_state="approved").actor == reviewer


def test_the_detail_page_rejects_only_with_a_reason(client, reviewer, three_waiting):
    oldest, middle, _newest = three_waiting
    client.force_login(reviewer)
    page = client.get(detail(oldest)).content.decode()
    assert re.search(r'<textarea name="reason"[^>]* required', page)

    refused = client.post(f"{QUEUE}{oldest.pk}/reject/", {"reason": "  "}, follow=True)
    assert "Geef een reden om af te wijzen." in refused.content.decode()
    assert Offer.objects.get(pk=oldest.pk).status == "proposed"

    response = client.post(f"{QUEUE}{oldest.pk}/reject/", {"reason": "Klant heeft klacht"})
    assert response.url == detail(middle)
    oldest.refresh_from_db()
    assert (oldest.status, oldest.rejection_reason) == ("rejected", "Klant heeft klacht")


def test_after_the_newest_the_queue_starts_again_from_the_oldest_left(
    client, reviewer, three_waiting
):
    oldest, _middle, newest = three_waiting
    client.force_login(reviewer)
    assert client.post(f"{QUEUE}{newest.pk}/approve/").url == detail(oldest)


def test_when_nothing_waits_any_more_the_reviewer_is_back_at_the_queue(client, reviewer, sanne):
    offer = make_offer(sanne)
    client.force_login(reviewer)
    response = client.post(f"{QUEUE}{offer.pk}/approve/", follow=True)
    assert response.redirect_chain == [(QUEUE, 302)]
    assert "Er wachten geen aanbiedingen meer op beoordeling." in response.content.decode()


def test_approve_on_the_detail_page_rechecks_consent(client, reviewer, sanne, choose, settings):
    offer = make_offer(sanne)
    settings.CONSENT_MAX_AGE_DAYS = 50  # Sanne chose a hundred days ago
    client.force_login(reviewer)
    response = client.post(f"{QUEUE}{offer.pk}/approve/", follow=True)
    assert "1 aanbod is ingetrokken in plaats van goedgekeurd" in response.content.decode()
    assert Offer.objects.get().status == "retracted"


def test_titles_use_the_customer_number_never_the_internal_id(client, reviewer, sanne):
    offer = make_offer(sanne)
    client.force_login(reviewer)
    html = client.get(detail(offer)).content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    crumb = re.search(r'<li aria-current="page">(.*?)</li>', html, re.S).group(1)
    for text in (title, heading, crumb):
        assert sanne.customer_number in text, text
        assert not re.search(rf"\b{offer.pk}\b", text), text
    assert str(offer) == "Reisverzekering wereld voor klant 510001"


def test_the_detail_page_shows_the_offers_history(client, reviewer, sanne):
    offer = make_offer(sanne, status="dismissed")
    client.force_login(reviewer)
    response = client.get(detail(offer))
    assert [e.to_state for e in response.context["history"]] == [
        "proposed",
        "approved",
        "dismissed",
    ]
    html = response.content.decode()
    assert 'id="offer-history"' in html
    assert "voorgesteld door de engine" in html and "antwoord van de klant" in html


@pytest.mark.parametrize("persona", ["privacy_officer", "contact_centre"])
def test_only_reviewers_get_the_buttons_and_may_use_them(client, request, sanne, persona):
    offer = make_offer(sanne)
    user = request.getfixturevalue(persona)
    client.force_login(user)
    page = client.get(detail(offer))
    if page.status_code == 200:
        assert 'id="approve"' not in page.content.decode()
    assert client.post(f"{QUEUE}{offer.pk}/approve/").status_code == 403
    assert client.post(f"{QUEUE}{offer.pk}/reject/", {"reason": "x"}).status_code == 403
    assert Offer.objects.get().status == "proposed"


def test_an_answered_offer_has_no_buttons_and_a_late_approve_changes_nothing(
    client, reviewer, sanne
):
    offer = make_offer(sanne, status="dismissed")
    client.force_login(reviewer)
    assert 'id="approve"' not in client.get(detail(offer)).content.decode()
    response = client.post(f"{QUEUE}{offer.pk}/approve/", follow=True)
    assert "wachtte niet (meer) op beoordeling" in response.content.decode()
    assert Offer.objects.get().status == "dismissed"


def test_approving_needs_a_post(client, reviewer, sanne):
    offer = make_offer(sanne)
    client.force_login(reviewer)
    assert client.get(f"{QUEUE}{offer.pk}/approve/").status_code == 404
    assert Offer.objects.get().status == "proposed"
