"""Three purposes of their own: may the bank contact the customer about its offers by
e-mail, by phone, by post. Each on the customer's consent (the Telecommunicatiewet,
art. 11.7, asks it for e-mail and phone; the bank asks it for post too, so the customer
decides every channel in one place), with its first published text.

Direct marketing, all three: an objection ("stop alle persoonlijke aanbiedingen") stops
them. The bank's own app and website are not a channel to consent to: offers are shown
there under the offers' own consents (the dashboard says so; nothing is stored).

Frozen, like every migration: the texts, the retention rules and the moment the texts
take effect are written out here; nothing is read from the application's code.
"""

import datetime as dt

from django.db import migrations

PUBLISHED_AT = dt.datetime(2026, 1, 1, 6, 0, tzinfo=dt.UTC)
RETENTION_RULES = [
    {"data": "consent_proof", "years": 5, "from": "relationship_end", "because": "claims"},
]
# Generated from RETENTION_RULES by consent.retention_rules.describe_rules, never typed.
RETENTION = {
    "retention_nl": (
        "Het bewijs van uw keuzes (uw geschiedenis en de bewijzen daarvan): 5 jaar na het"
        " einde van de klantrelatie (zolang u of de toezichthouder ons erop kan"
        " aanspreken); daarna bewaren wij alleen dat het is verwijderd."
    ),
    "retention_en": (
        "The proof of your choices (your history and its receipts): 5 years after the"
        " customer relationship ends (as long as you or the regulator can hold us to"
        " account for it); after that we keep only the fact that it was removed."
    ),
}
COMMON = {
    "recipients_nl": (
        "Alleen Voorbeeldbank N.V. zelf. Wij verkopen uw gegevens nooit en delen ze niet met"
        " andere bedrijven voor hun marketing."
    ),
    "recipients_en": (
        "Only Voorbeeldbank N.V. itself. We never sell your data and do not share it with"
        " other companies for their marketing."
    ),
    "controller_nl": "Voorbeeldbank N.V., Bankplein 1, 1000 AA Amsterdam, Nederland",
    "controller_en": "Voorbeeldbank N.V., Bankplein 1, 1000 AA Amsterdam, the Netherlands",
    "dpo_contact_nl": (
        "Functionaris gegevensbescherming van Voorbeeldbank N.V., Postbus 1000, 1000 AA"
        " Amsterdam, privacy@voorbeeldbank.example"
    ),
    "dpo_contact_en": (
        "Data protection officer of Voorbeeldbank N.V., PO Box 1000, 1000 AA Amsterdam,"
        " the Netherlands, privacy@voorbeeldbank.example"
    ),
    **RETENTION,
}
WITHDRAWAL_NL = (
    " U kunt uw toestemming altijd intrekken, met één klik op de pagina Mijn"
    " privacykeuzes, zonder gevolgen voor uw producten bij ons."
)
WITHDRAWAL_EN = (
    " You can always withdraw your consent, with one click on the My privacy choices"
    " page, without consequences for your products with us."
)
CHANNELS = [
    (
        {
            "code": "contact_email",
            "legal_basis": "consent",
            "required": False,
            "direct_marketing": True,
            "position": 6,
            "dpia_reference": "DPIA-2026-12",
        },
        {
            "title_nl": "E-mail over aanbiedingen",
            "title_en": "E-mail about offers",
            "description_nl": (
                "Als u dit aanzet, mogen wij u een e-mail sturen over een aanbieding van onze"
                " eigen bank, bijvoorbeeld als er een nieuwe aanbieding voor u klaarstaat."
                " E-mails over uw rekening zelf, zoals een wijziging van de voorwaarden,"
                " krijgt u altijd; daar gaat dit niet over." + WITHDRAWAL_NL
            ),
            "description_en": (
                "If you switch this on, we may send you an e-mail about an offer of our own"
                " bank, for example when a new offer is waiting for you. E-mails about your"
                " account itself, such as a change in its terms, you always receive; this is"
                " not about those." + WITHDRAWAL_EN
            ),
            "data_used_nl": "Uw naam, uw e-mailadres en de taal waarin u ons leest.",
            "data_used_en": "Your name, your e-mail address and the language you read us in.",
            "data_categories": ["profile.name", "profile.email", "profile.language"],
        },
    ),
    (
        {
            "code": "contact_phone",
            "legal_basis": "consent",
            "required": False,
            "direct_marketing": True,
            "position": 7,
            "dpia_reference": "DPIA-2026-12",
        },
        {
            "title_nl": "Telefoon over aanbiedingen",
            "title_en": "Phone calls about offers",
            "description_nl": (
                "Als u dit aanzet, mag een medewerker van de bank u bellen over een aanbieding"
                " van onze eigen bank, bijvoorbeeld als u bij een aanbieding op ‘Bel mij"
                " hierover’ drukt. Staat dit uit, dan bellen wij u nooit over aanbiedingen."
                " Over uw rekening zelf, zoals bij fraude, bellen wij u wel." + WITHDRAWAL_NL
            ),
            "description_en": (
                "If you switch this on, a member of the bank's staff may call you about an"
                " offer of our own bank, for example when you press ‘Call me about this’ on an"
                " offer. If it is off, we never call you about offers. About your account"
                " itself, such as in case of fraud, we do call you." + WITHDRAWAL_EN
            ),
            "data_used_nl": "Uw naam, uw telefoonnummer en de taal waarin u ons leest.",
            "data_used_en": "Your name, your phone number and the language you read us in.",
            "data_categories": ["profile.name", "profile.phone", "profile.language"],
        },
    ),
    (
        {
            "code": "contact_post",
            "legal_basis": "consent",
            "required": False,
            "direct_marketing": True,
            "position": 8,
            "dpia_reference": "DPIA-2026-12",
        },
        {
            "title_nl": "Post over aanbiedingen",
            "title_en": "Letters about offers",
            "description_nl": (
                "Als u dit aanzet, mogen wij u een brief sturen over een aanbieding van onze"
                " eigen bank, bijvoorbeeld een folder over een spaarrekening die bij u past."
                " Brieven over uw rekening zelf krijgt u altijd; daar gaat dit niet over."
                + WITHDRAWAL_NL
            ),
            "description_en": (
                "If you switch this on, we may send you a letter about an offer of our own"
                " bank, for example a leaflet about a savings account that suits you. Letters"
                " about your account itself you always receive; this is not about those."
                + WITHDRAWAL_EN
            ),
            "data_used_nl": "Uw naam, uw adres en de taal waarin u ons leest.",
            "data_used_en": "Your name, your address and the language you read us in.",
            "data_categories": ["profile.name", "profile.address", "profile.language"],
        },
    ),
]


def add_the_channels(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    PurposeVersion = apps.get_model("consent", "PurposeVersion")
    for purpose_fields, first_version in CHANNELS:
        purpose = Purpose.objects.create(**purpose_fields)
        PurposeVersion.objects.create(
            purpose=purpose,
            version=1,
            material=True,
            published_at=PUBLISHED_AT,
            notice_format=2,
            retention_rules=RETENTION_RULES,
            **first_version,
            **COMMON,
        )


class Migration(migrations.Migration):
    dependencies = [("consent", "0012_immune_to_shadowing_and_deletes")]

    # No way back: a published text is never deleted (the versions table refuses it),
    # and customers' choices in the ledger refer to them.
    operations = [migrations.RunPython(add_the_channels, elidable=False)]
