"""Staff never see exact amounts: what reviewers and privacy officers read about an offer
is banded ("above the threshold"), while the customer reads their own details. Tested on
offers the real engine made from data that came in through the real imports."""

import pytest
from django.core.management import call_command

from banking.synthetic import iban
from ledger.models import Action
from offers.models import Offer

QUEUE = "/admin/offers/offer/"
SAVER_IBAN, TRAVELLER_IBAN, STUDENT_IBAN = (iban("NL", "DEMO", n) for n in (71, 72, 73))


@pytest.fixture
def imported(db, tmp_path, choose, now, capsys):
    """Three customers through `import_customers`, `import_accounts`, `import_holdings` and
    `import_transactions`, each with consent; then `generate_offers`."""

    def write(name, *lines):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)

    call_command(
        "import_customers",
        write(
            "customers.csv",
            "customer_number,first_name,last_name,email,birth_date,language",
            "710001,Noor,Bakker,noor@example.nl,1980-04-01,nl",
            "710002,Sem,Visser,sem@example.nl,1979-08-12,nl",
            "710003,Lucas,de Wit,lucas@example.nl,2005-09-01,nl",
        ),
    )
    call_command(
        "import_accounts",
        write(
            "accounts.csv",
            "iban,customer_number,kind,balance,currency",
            f"{SAVER_IBAN},710001,checking,12537.42,EUR",
            f"{TRAVELLER_IBAN},710002,checking,2480.15,EUR",
            f"{STUDENT_IBAN},710003,checking,311.07,EUR",
        ),
    )
    call_command(
        "import_holdings",
        write("holdings.csv", "customer_number,product_code", "710002,travel_insurance_europe"),
    )
    call_command(
        "import_transactions",
        write(
            "transactions.csv",
            "transaction_id,iban,booked_at,amount,currency,counterparty_name,"
            "counterparty_iban,mcc,country,description",
            f"T1,{TRAVELLER_IBAN},2026-10-03T19:12:00+02:00,-187.35,USD,Hotel Chelsea,,7011,US,",
            f"T2,{TRAVELLER_IBAN},2026-10-05T12:40:00+02:00,-42.80,USD,Diner,,5812,US,",
            f"T3,{STUDENT_IBAN},2026-10-24T09:00:00+02:00,312.86,EUR,DUO,,,NL,Studiefinanciering",
        ),
    )
    from consent.models import Customer

    customers = {c.customer_number: c for c in Customer.objects.all()}
    choose(customers["710001"], "offers_balance", days_ago=5)
    choose(customers["710002"], "offers_spending", days_ago=5)
    choose(customers["710003"], "offers_income", days_ago=5)
    call_command("generate_offers", "--as-of", "2026-11-02")
    capsys.readouterr()
    assert Offer.objects.count() == 3
    return customers


# The figures as they would be written (whole numbers alone would match offer ids in URLs).
EXACT = (
    *("12.537", "12537", "187,35", "187.35", "€ 187", "42,80", "42.80", "€ 42"),
    *("312,86", "312.86", "€ 312", "311,07", "2.480", "3 okt", "5 okt", "24 okt", "2 kaart"),
)


@pytest.mark.parametrize("staff", ["reviewer", "privacy_officer"])
def test_staff_read_banded_evidence_and_never_an_exact_amount(client, imported, request, staff):
    client.force_login(request.getfixturevalue(staff))
    pages = [client.get(QUEUE, {"status__exact": "proposed"}).content.decode()]
    for offer in Offer.objects.all():
        pages.append(client.get(f"{QUEUE}{offer.pk}/change/").content.decode())
    text = "\n".join(pages)
    assert "Saldo betaalrekening: boven de drempel van € 10.000" in text
    assert "Kaartbetalingen buiten Europa: ja, in de Verenigde Staten" in text
    assert "Studiefinanciering van DUO in de afgelopen 90 dagen: ja" in text
    for exact in EXACT:
        assert exact not in text, exact


def test_the_customer_reads_their_own_details(client, imported, reviewer):
    from offers import review

    review.approve(
        offer_ids=Offer.objects.values_list("pk", flat=True),
        reviewer=reviewer,
        at=Offer.objects.first().created_at,
    )
    client.force_login(imported["710001"].user)
    assert "Saldo van uw betaalrekening: € 12.537,42" in client.get("/offers/").content.decode()
    client.force_login(imported["710002"].user)
    page = client.get("/offers/").content.decode()
    assert "2 kaartbetalingen in de Verenigde Staten, laatst op 5 okt" in page


def test_a_withdrawal_does_not_reveal_amounts_to_staff_either(client, imported, reviewer, choose):
    choose(imported["710001"], "offers_balance", Action.WITHDRAWN)
    client.force_login(reviewer)
    page = client.get(QUEUE).content.decode()
    assert "12.537" not in page and "ingetrokken" in page
