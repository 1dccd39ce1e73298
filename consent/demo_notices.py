"""The texts a privacy officer publishes in the demo (`load_demo`), after the first ones of
the migrations, and when: what the demo shows of a notice's life.

- The three offers purposes say, inside their hashed text, that consent can always be
  withdrawn and how (`catalogue.WITHDRAWAL_SENTENCE`), and name every kind of data the
  offers rules read under them (`offers.features.FEATURE_CATEGORIES`).
  `offers_spending` and `offers_balance` (version 2) are **not material**: the withdrawal
  sentence states a right the customer already had, and the products held were implied
  (the spending text's own example is the customer's travel insurance; the balance rule
  reads them only to leave out a savings account the customer already has). They are in
  force, and every consent to version 1 keeps counting.
- `offers_income` (version 2) is **material**: the student-account rule reads the
  customer's age, a category the first text never named. It is published to take effect
  later: until then customers read and consent to version 1, their card announces the
  change with the new text, and from then on a consent to version 1 no longer counts.
- The required purposes (`payments`, `fraud_prevention`) get a version (not material:
  nobody's consent rests on them) whose retention sentence, generated from their rules,
  says why in plain words instead of "Wwft" and "fiscale bewaarplicht"; their other
  texts stay as they are, as the admin's form starts from them.

Every version goes through `publishing.publish_version`, as the admin's publishing does:
numbered, hashed, its retention sentences generated from its rules, its publisher kept.
These texts are demo data: migrations never read this module (they are frozen).
"""

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction

from .catalogue import (
    CONTROLLER_EN,
    CONTROLLER_NL,
    DPO_CONTACT_EN,
    DPO_CONTACT_NL,
    VERSION_FIELDS,
    WITHDRAWAL_SENTENCE,
)
from .models import Purpose, PurposeVersion
from .publishing import publish_version, retention_texts, starting_texts

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# When the officer published them, and when the material one takes effect, counted from
# the moment the demo is loaded: the demo shows the same story whatever day it is loaded.
# Sanne's grant of 30 days ago is on the new spending text; the older grants are on the
# first texts, and keep counting.
PUBLISHED_DAYS_AGO = 35
MATERIAL_TAKES_EFFECT_IN_DAYS = 28
# A round moment of the day, in UTC (07:00 in Amsterdam in winter, 08:00 in summer).
HOUR_UTC = 6

THE_BANK = {
    "recipients_nl": (
        "Alleen Voorbeeldbank N.V. zelf. Wij verkopen uw gegevens nooit en delen ze niet met"
        " andere bedrijven voor hun marketing."
    ),
    "recipients_en": (
        "Only Voorbeeldbank N.V. itself. We never sell your data and do not share it with other"
        " companies for their marketing."
    ),
    "controller_nl": CONTROLLER_NL,
    "controller_en": CONTROLLER_EN,
    "dpo_contact_nl": DPO_CONTACT_NL,
    "dpo_contact_en": DPO_CONTACT_EN,
}
WITHDRAWAL_NL, WITHDRAWAL_EN = WITHDRAWAL_SENTENCE["nl"], WITHDRAWAL_SENTENCE["en"]

# purpose code -> (material, the texts); in force now unless material (then: scheduled).
OFFERS_TEXTS: dict[str, tuple[bool, dict[str, Any]]] = {
    "offers_spending": (
        False,
        {
            "title_nl": "Aanbiedingen op basis van waar en hoe u betaalt",
            "title_en": "Offers based on where and how you pay",
            "description_nl": (
                "Als u dit aanzet, kijken wij in welke landen en bij wat voor soort winkels u"
                " met uw pas betaalt, om u producten van onze eigen bank voor te stellen."
                " Voorbeeld: u betaalt in de Verenigde Staten, maar uw reisverzekering dekt"
                " alleen Europa; dan stellen wij een wereldreisverzekering voor. Betalingen bij"
                " bijvoorbeeld artsen, apotheken, politieke partijen, kerken en vakbonden"
                " gebruiken wij hier nooit voor. " + WITHDRAWAL_NL
            ),
            "description_en": (
                "If you switch this on, we look at the countries and the kinds of shop where"
                " you pay by card, to suggest our own bank's products. Example: you pay in the"
                " United States but your travel insurance only covers Europe; we then suggest"
                " world-wide cover. Payments to, for example, doctors, pharmacies, political"
                " parties, churches and trade unions are never used for this. " + WITHDRAWAL_EN
            ),
            "data_used_nl": (
                "Van uw pasbetalingen: het land en het soort winkel, niet de naam of"
                " omschrijving. En welke producten u al bij ons heeft, zoals een"
                " reisverzekering voor Europa."
            ),
            "data_used_en": (
                "Of your card payments: the country and the kind of shop, not the name or"
                " description. And which products you already have with us, such as travel"
                " insurance for Europe."
            ),
            "data_categories": [
                "card_payments.country",
                "card_payments.merchant_category",
                "products_held",
            ],
            **THE_BANK,
        },
    ),
    "offers_income": (
        True,
        {
            "title_nl": "Aanbiedingen op basis van wie u betaalt",
            "title_en": "Offers based on who pays you",
            "description_nl": (
                "Als u dit aanzet, kijken wij of u geld ontvangt van bekende instellingen, om u"
                " producten van onze eigen bank voor te stellen. Voorbeeld: u ontvangt"
                " studiefinanciering van DUO en u bent oud genoeg voor een studentenrekening;"
                " dan stellen wij die voor. Betalingen van particulieren gebruiken wij hier"
                " nooit voor. " + WITHDRAWAL_NL
            ),
            "description_en": (
                "If you switch this on, we look at whether you receive money from known"
                " institutions, to suggest our own bank's products. Example: you receive"
                " student finance from DUO and are old enough for a student account; we then"
                " suggest one. Payments from private persons are never used for this. "
                + WITHDRAWAL_EN
            ),
            "data_used_nl": (
                "Van uw ontvangen betalingen: alleen of ze van een bekende instelling komen,"
                " zoals DUO. Verder uw leeftijd (uit uw geboortedatum) en welke producten u al"
                " bij ons heeft."
            ),
            "data_used_en": (
                "Of the payments you receive: only whether they come from a known institution,"
                " such as DUO. Also your age (from your date of birth) and which products you"
                " already have with us."
            ),
            "data_categories": [
                "incoming_payments.institutional_payer",
                "profile.age",
                "products_held",
            ],
            **THE_BANK,
        },
    ),
    "offers_balance": (
        False,
        {
            "title_nl": "Aanbiedingen op basis van uw saldo",
            "title_en": "Offers based on your balances",
            "description_nl": (
                "Als u dit aanzet, kijken wij naar het saldo op uw betaalrekening, om u"
                " producten van onze eigen bank voor te stellen. Voorbeeld: er staat lange"
                " tijd veel geld op uw betaalrekening; dan stellen wij een spaarrekening voor. "
                + WITHDRAWAL_NL
            ),
            "description_en": (
                "If you switch this on, we look at the balance of your current account, to"
                " suggest our own bank's products. Example: you keep a lot of money in your"
                " current account; we then suggest a savings account. " + WITHDRAWAL_EN
            ),
            "data_used_nl": (
                "Het saldo van uw betaalrekening, en welke producten u al bij ons heeft: een"
                " spaarrekening die u al heeft, stellen wij niet voor."
            ),
            "data_used_en": (
                "The balance of your current account, and which products you already have with"
                " us: we do not suggest a savings account you already have."
            ),
            "data_categories": ["account_balances", "products_held"],
            **THE_BANK,
        },
    ),
}
# Their texts as they stand; the new version's retention sentence is generated from the
# same rules, in the words of `retention_rules.BECAUSE`.
REQUIRED_IN_PLAIN_WORDS = ("payments", "fraud_prevention")


def demo_moments(*, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When the officer published the demo's texts (the non-material ones take effect
    then), and when the material one takes effect: a round hour, days from `now`."""

    def at_hour(moment: dt.datetime) -> dt.datetime:
        day = moment.astimezone(dt.UTC).date()
        return dt.datetime.combine(day, dt.time(HOUR_UTC), tzinfo=dt.UTC)

    return (
        at_hour(now - dt.timedelta(days=PUBLISHED_DAYS_AGO)),
        at_hour(now + dt.timedelta(days=MATERIAL_TAKES_EFFECT_IN_DAYS)),
    )


@transaction.atomic
def publish_demo_versions(*, officer: "User | None", now: dt.datetime) -> list[PurposeVersion]:
    """The privacy officer's publications of the demo, in the past (`demo_moments`), as
    the admin's publishing makes them. Publishes nothing for a purpose whose newest text
    already says it (loading twice publishes nothing twice)."""
    published_at, material_at = demo_moments(now=now)
    plans = [
        (code, material, texts, material_at if material else published_at)
        for code, (material, texts) in OFFERS_TEXTS.items()
    ]
    for code in REQUIRED_IN_PLAIN_WORDS:
        purpose = Purpose.objects.get(code=code)
        plans.append((code, False, starting_texts(purpose_id=purpose.pk), published_at))
    published = []
    for code, material, texts, at in plans:
        if _newest_says(code, texts):
            continue
        published.append(
            publish_version(
                purpose_code=code,
                material=material,
                texts=texts,
                actor=officer,
                at=at,
                now=published_at,
            ).version
        )
    return published


def _newest_says(code: str, texts: dict[str, Any]) -> bool:
    """Whether the purpose's newest version has exactly these texts, with the retention
    sentences a version published now would get."""
    newest = PurposeVersion.objects.filter(purpose__code=code).order_by("-version").first()
    if newest is None:
        return False
    wanted = {**texts, **retention_texts(newest.purpose)}
    return all(getattr(newest, name) == wanted[name] for name in VERSION_FIELDS)
