"""Staff's daily work in a real browser at 1280 px: the review queue that
flows, acting for a customer who phones, and publishing a material version only after a
second confirmation. The `page` fixture fails every test on a CSP violation or a script
error, so each page here also proves it needs nothing inline."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import PurposeVersion, StaffAction
from ledger.models import ConsentEvent
from offers.models import Offer
from tests.browser.conftest import PASSWORD, log_in
from tests.browser.test_accessibility import serious_violations
from tests.factories import CustomerFactory, UserFactory
from tests.offers.factories import make_offer

pytestmark = pytest.mark.browser

WIDTH = {"width": 1280, "height": 900}


def staff(username, group):
    user = UserFactory(username=username, first_name=username.capitalize(), is_staff=True)
    user.groups.set([Group.objects.get(name=group)])
    return user


def log_in_to_admin(page, username, next_path):
    page.set_viewport_size(WIDTH)
    page.goto(f"/admin/login/?next={next_path}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(f"**{next_path}")


def fits(page, selector):
    """Nothing in `selector` is cut off or needs a sideways scroll."""
    return page.locator(selector).evaluate(
        "e => e.scrollWidth <= e.clientWidth + 1"
        " && e.getBoundingClientRect().right <= document.documentElement.clientWidth"
    )


@pytest.fixture
def queue(transactional_db, choose):
    """Two proposed offers: Sanne's (three days old) and Daan's (one day old)."""
    now = timezone.now()
    sanne = CustomerFactory(customer_number="610001", first_name="Sanne")
    daan = CustomerFactory(customer_number="610002", first_name="Daan")
    choose(sanne, "offers_spending", at=now - dt.timedelta(days=10))
    choose(daan, "offers_balance", at=now - dt.timedelta(days=10))
    older = make_offer(sanne, now=now - dt.timedelta(days=3))
    newer = make_offer(daan, rule="savings_account", now=now - dt.timedelta(days=1))
    return older, newer


def test_a_reviewer_works_the_queue_from_the_detail_pages(page, queue):
    older, newer = queue
    rik = staff("rik", "Offer reviewers")
    log_in_to_admin(page, "rik", "/admin/offers/offer/")

    # The queue: proposed, oldest first, every column on screen at 1280 px.
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("610001")
    expect(rows.nth(0)).to_contain_text("Reisverzekering wereld")
    expect(rows.nth(0)).to_contain_text("Kaartbetalingen buiten Europa: ja")
    expect(rows.nth(0)).to_contain_text("3 dagen")
    expect(rows.nth(1)).to_contain_text("Saldo betaalrekening: boven de drempel van € 10.000")
    assert fits(page, ".results")
    for column in ("customer_number", "product_name", "evidence", "waiting", "valid_until"):
        header = page.locator(f"#result_list th.column-{column}")
        box = header.bounding_box()
        assert box["x"] + box["width"] <= 1280, column
    assert serious_violations(page) == []

    # The oldest offer: approve, and the next one opens.
    rows.nth(0).get_by_role("link", name="610001").click()
    expect(page.locator("h1")).to_have_text("Aanbod voor klant 610001")
    expect(page.locator("#offer-history")).to_contain_text("voorgesteld door de engine")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Goedkeuren").click()
    expect(page.locator(".messagelist")).to_contain_text("Aanbod voor klant 610001 goedgekeurd.")
    expect(page.locator("h1")).to_have_text("Aanbod voor klant 610002")

    # Rejecting needs a reason: the browser does not send the form without one.
    page.get_by_role("button", name="Afwijzen").click()
    expect(page.locator("h1")).to_have_text("Aanbod voor klant 610002")
    assert Offer.objects.get(pk=newer.pk).status == "proposed"
    page.get_by_label("Reden").fill("Klant heeft net een klacht ingediend")
    page.get_by_role("button", name="Afwijzen").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Er wachten geen aanbiedingen meer op beoordeling."
    )
    page.wait_for_url("**/admin/offers/offer/")

    assert Offer.objects.get(pk=older.pk).status == "approved"
    rejected = Offer.objects.get(pk=newer.pk)
    assert (rejected.status, rejected.rejection_reason) == (
        "rejected",
        "Klant heeft net een klacht ingediend",
    )
    assert rejected.events.get(to_state="rejected").actor == rik


def test_the_contact_centre_records_a_choice_a_customer_asks_for_by_phone(page, transactional_db):
    customer = CustomerFactory(customer_number="620001", first_name="Noor", last_name="Visser")
    karim = staff("karim", "Klantenservice")
    log_in_to_admin(page, "karim", "/admin/consent/customer/")

    page.locator("#searchbar").fill("620001")
    page.locator("#searchbar").press("Enter")
    expect(page.locator("h1")).to_have_text("Klant 620001")
    row = page.locator("#purpose-offers_income")
    expect(row).to_contain_text("nooit gekozen")
    assert fits(page, "#content-main")
    assert serious_violations(page) == []
    row.get_by_role("link", name="Aanzetten…").click()

    expect(page.locator("#notice-text")).to_contain_text("Aanbiedingen op basis van wie u betaalt")
    # Without the channel, the identity check and a note nothing is recorded.
    page.get_by_role("button", name="Aanzetten namens de klant").click()
    assert not ConsentEvent.objects.filter(customer=customer).exists()
    page.get_by_label("telefonisch").check()
    page.get_by_label("Ik heb de identiteit van de klant gecontroleerd.").check()
    page.get_by_label("Notitie: wat vroeg de klant?").fill("Belde: wil aanbiedingen op inkomen.")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Aanzetten namens de klant").click()

    expect(page.locator(".messagelist")).to_contain_text("Vastgelegd namens klant 620001")
    expect(page.locator("#purpose-offers_income .valid")).to_have_text("ja")
    expect(page.locator("#consent-history")).to_contain_text("door medewerker Karim")
    event = ConsentEvent.objects.get(customer=customer)
    assert (event.actor, event.channel) == (karim, "phone")
    assert StaffAction.objects.get(event=event).note == "Belde: wil aanbiedingen op inkomen."

    # The customer reads who did it, and how.
    page.context.clear_cookies()
    log_in(page, "620001")
    page.goto("/history/")
    expect(page.locator("ol.events")).to_contain_text(
        "door een medewerker van de bank, telefonisch"
    )


def test_a_privacy_officer_publishes_a_material_version_after_a_second_confirmation(
    page, transactional_db, choose
):
    customer = CustomerFactory(customer_number="630001")
    choose(customer, "offers_spending", at=timezone.now() - dt.timedelta(days=5))
    offer = make_offer(customer, status="approved")
    staff("petra", "Privacy officers")
    current = PurposeVersion.objects.get(purpose__code="offers_spending")
    purpose_id = current.purpose_id
    log_in_to_admin(page, "petra", f"/admin/consent/purpose/{purpose_id}/change/")

    page.get_by_role("link", name="Nieuwe versie van deze tekst").click()
    description = page.get_by_label("Beschrijving (Nederlands)")
    expect(description).to_have_value(current.description_nl)
    description.fill(description.input_value() + " Wij kijken nu ook naar de naam van de winkel.")
    page.get_by_label("Materieel").check()
    page.get_by_role("button", name="Voorbeeld bekijken").click()

    expect(page.locator("#preview-nl .preview-card h4")).to_have_text(
        "Aanbiedingen op basis van waar en hoe u betaalt"
    )
    expect(page.locator("#preview-en .preview-card h4")).to_have_text(
        "Offers based on where and how you pay"
    )
    expect(page.locator("#diff-nl ins").first).to_have_text(
        "Wij kijken nu ook naar de naam van de winkel."
    )
    assert serious_violations(page) == []
    page.get_by_role("button", name="Publiceren…").click()

    warning = page.locator("#material-warning")
    expect(warning).to_contain_text("1 geldige toestemming vervalt")
    expect(warning).to_contain_text("1 open aanbieding die erop steunt wordt ingetrokken.")
    assert PurposeVersion.objects.count() == 8  # the first texts: nothing published yet
    assert serious_violations(page) == []
    page.get_by_role("button", name="Ja, publiceer en beëindig 1 toestemming").click()

    expect(page.locator(".messagelist")).to_contain_text("Versie 2 van")
    expect(page.locator(".messagelist")).to_contain_text("1 open aanbieding is ingetrokken.")
    assert PurposeVersion.objects.get(purpose_id=purpose_id, version=2).material
    assert Offer.objects.get(pk=offer.pk).status == "retracted"


def test_the_privacy_overview_tables_fit_at_1280_px(page, transactional_db, choose):
    customer = CustomerFactory(customer_number="640001")
    choose(customer, "offers_spending", at=timezone.now() - dt.timedelta(days=5))
    make_offer(customer, status="accepted")
    staff("petra", "Privacy officers")
    log_in_to_admin(page, "petra", "/admin/offers/offer/overview/")
    for table in ("#consent-figures", "#objections", "#funnel"):
        assert fits(page, table), table
    expect(page.locator("#funnel-travel_insurance_world .accepted")).to_have_text("1")
    week_ago = timezone.localdate() - dt.timedelta(days=7)
    page.get_by_label("Van", exact=True).fill(week_ago.isoformat())
    page.get_by_role("button", name="Toon deze periode").click()
    expect(page.locator("#funnel-travel_insurance_world .proposed")).to_have_text("1")
    assert serious_violations(page) == []
