"""The five purposes of docs/ledger.md and their first published texts.

Frozen: the texts are written out here, as they were published on 1 July 2019, and never
come from the application's code (the SHA-256 of each text is in the ledger's events). A
new purpose is a new migration (docs/recipes/add-a-purpose.md), never an edit here.
"""

import datetime as dt

from django.db import migrations

FIRST_PUBLISHED_AT = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)
# The fields as the models had them at this migration (0004 moved some to the versions).
PURPOSE_FIELDS = (
    "code",
    "legal_basis",
    "required",
    "position",
    "data_categories",
    "retention_nl",
    "retention_en",
    "dpia_reference",
)
VERSION_FIELDS = (
    "title_nl",
    "title_en",
    "description_nl",
    "description_en",
    "data_used_nl",
    "data_used_en",
)
PURPOSES = (
    {
        "code": "payments",
        "legal_basis": "contract",
        "required": True,
        "position": 1,
        "data_categories": ["account", "transactions"],
        "retention_nl": "7 jaar na het einde van de klantrelatie (fiscale bewaarplicht)",
        "retention_en": "7 years after the customer relationship ends (tax record-keeping)",
        "dpia_reference": "DPIA-2019-01",
        "title_nl": "Uw betalingen uitvoeren en uw rekening bijhouden",
        "title_en": "Carry out your payments and run your account",
        "description_nl": (
            "Zonder deze gegevens kunnen wij uw geld niet overmaken en uw rekening niet"
            " bijhouden. Dit is nodig voor de overeenkomst die u met ons heeft; u kunt het"
            " daarom niet uitzetten."
        ),
        "description_en": (
            "Without this data we cannot move your money or keep your account. It is"
            " needed for the agreement you have with us, so it cannot be switched off."
        ),
        "data_used_nl": "Uw rekeninggegevens en al uw betalingen.",
        "data_used_en": "Your account details and all your payments.",
    },
    {
        "code": "fraud_prevention",
        "legal_basis": "legal_obligation",
        "required": True,
        "position": 2,
        "data_categories": ["account", "transactions"],
        "retention_nl": "5 jaar na de transactie (Wwft)",
        "retention_en": "5 years after the transaction (Dutch anti-money-laundering act)",
        "dpia_reference": "DPIA-2019-02",
        "title_nl": "Fraude en witwassen opsporen",
        "title_en": "Detect fraud and money laundering",
        "description_nl": (
            "De wet verplicht ons om fraude, witwassen en terrorismefinanciering op te"
            " sporen. Daarvoor controleren wij betalingen; u kunt dit niet uitzetten."
        ),
        "description_en": (
            "The law requires us to detect fraud, money laundering and the financing of"
            " terrorism. To do so we check payments; this cannot be switched off."
        ),
        "data_used_nl": "Uw rekeninggegevens en al uw betalingen.",
        "data_used_en": "Your account details and all your payments.",
    },
    {
        "code": "offers_spending",
        "legal_basis": "consent",
        "required": False,
        "position": 3,
        "data_categories": ["card_payments.country", "card_payments.merchant_category"],
        "retention_nl": "Zolang uw toestemming geldt; aanbiedingen 1 jaar",
        "retention_en": "As long as your consent lasts; offers 1 year",
        "dpia_reference": "DPIA-2026-07",
        "title_nl": "Aanbiedingen op basis van waar en hoe u betaalt",
        "title_en": "Offers based on where and how you pay",
        "description_nl": (
            "Als u dit aanzet, kijken wij in welke landen en bij wat voor soort winkels u"
            " met uw pas betaalt, om u producten van onze eigen bank voor te stellen."
            " Voorbeeld: u betaalt in de Verenigde Staten, maar uw reisverzekering dekt"
            " alleen Europa; dan stellen wij een wereldreisverzekering voor. Betalingen bij"
            " bijvoorbeeld artsen, apotheken, politieke partijen, kerken en vakbonden"
            " gebruiken wij hier nooit voor."
        ),
        "description_en": (
            "If you switch this on, we look at the countries and the kinds of shop where"
            " you pay by card, to suggest our own bank's products. Example: you pay in the"
            " United States but your travel insurance only covers Europe; we then suggest"
            " world-wide cover. Payments to, for example, doctors, pharmacies, political"
            " parties, churches and trade unions are never used for this."
        ),
        "data_used_nl": "Van uw pasbetalingen: het land en het soort winkel. Niet de naam of omschrijving.",
        "data_used_en": "Of your card payments: the country and the kind of shop. Not the name or description.",
    },
    {
        "code": "offers_income",
        "legal_basis": "consent",
        "required": False,
        "position": 4,
        "data_categories": ["incoming_payments.institutional_payer"],
        "retention_nl": "Zolang uw toestemming geldt; aanbiedingen 1 jaar",
        "retention_en": "As long as your consent lasts; offers 1 year",
        "dpia_reference": "DPIA-2026-07",
        "title_nl": "Aanbiedingen op basis van wie u betaalt",
        "title_en": "Offers based on who pays you",
        "description_nl": (
            "Als u dit aanzet, kijken wij of u geld ontvangt van bekende instellingen, om u"
            " producten van onze eigen bank voor te stellen. Voorbeeld: u ontvangt"
            " studiefinanciering van DUO; dan stellen wij een studentenrekening voor."
            " Betalingen van particulieren gebruiken wij hier nooit voor."
        ),
        "description_en": (
            "If you switch this on, we look at whether you receive money from known"
            " institutions, to suggest our own bank's products. Example: you receive"
            " student finance from DUO; we then suggest a student account. Payments from"
            " private persons are never used for this."
        ),
        "data_used_nl": "Van uw ontvangen betalingen: alleen of ze van een bekende instelling komen, zoals DUO.",
        "data_used_en": "Of the payments you receive: only whether they come from a known institution, such as DUO.",
    },
    {
        "code": "offers_balance",
        "legal_basis": "consent",
        "required": False,
        "position": 5,
        "data_categories": ["account_balances"],
        "retention_nl": "Zolang uw toestemming geldt; aanbiedingen 1 jaar",
        "retention_en": "As long as your consent lasts; offers 1 year",
        "dpia_reference": "DPIA-2026-07",
        "title_nl": "Aanbiedingen op basis van uw saldo",
        "title_en": "Offers based on your balances",
        "description_nl": (
            "Als u dit aanzet, kijken wij naar het saldo op uw betaalrekening, om u"
            " producten van onze eigen bank voor te stellen. Voorbeeld: er staat lange tijd"
            " veel geld op uw betaalrekening; dan stellen wij een spaarrekening voor."
        ),
        "description_en": (
            "If you switch this on, we look at the balance of your current account, to"
            " suggest our own bank's products. Example: you keep a lot of money in your"
            " current account; we then suggest a savings account."
        ),
        "data_used_nl": "Het saldo van uw betaalrekening.",
        "data_used_en": "The balance of your current account.",
    },
)


def create_catalogue(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    PurposeVersion = apps.get_model("consent", "PurposeVersion")
    for spec in PURPOSES:
        purpose = Purpose.objects.create(**{name: spec[name] for name in PURPOSE_FIELDS})
        PurposeVersion.objects.create(
            purpose=purpose,
            version=1,
            material=True,
            published_at=FIRST_PUBLISHED_AT,
            **{name: spec[name] for name in VERSION_FIELDS},
        )


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(create_catalogue, migrations.RunPython.noop)]
