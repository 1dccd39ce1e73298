"""The purposes the bank uses customers' data for, with their first published texts.

Used by the data migrations that create them. Later versions are published by a
privacy officer and never edit these (the versions table refuses UPDATE).

Retention: each purpose's rules (`RETENTION_RULES`, see `consent.retention`)
are what its first version's retention sentence says, made machine-readable; migration
0008 wrote them onto those versions. Versions published from then on carry their rules
inside the hashed text and generate the sentence from them.
"""

import hashlib

from infra.languages import text_language

CONTROLLER_NL = "Voorbeeldbank N.V., Bankplein 1, 1000 AA Amsterdam, Nederland"
CONTROLLER_EN = "Voorbeeldbank N.V., Bankplein 1, 1000 AA Amsterdam, the Netherlands"
DPO_CONTACT_NL = (
    "Functionaris gegevensbescherming van Voorbeeldbank N.V., Postbus 1000, 1000 AA Amsterdam,"
    " privacy@voorbeeldbank.example"
)
DPO_CONTACT_EN = (
    "Data protection officer of Voorbeeldbank N.V., PO Box 1000, 1000 AA Amsterdam,"
    " the Netherlands, privacy@voorbeeldbank.example"
)
BANK_ONLY_NL = (
    "Alleen Voorbeeldbank N.V. zelf. Wij verkopen uw gegevens nooit en delen ze niet met"
    " andere bedrijven voor hun marketing."
)
BANK_ONLY_EN = (
    "Only Voorbeeldbank N.V. itself. We never sell your data and do not share it with other"
    " companies for their marketing."
)
WHO_RUNS_IT = {
    "controller_nl": CONTROLLER_NL,
    "controller_en": CONTROLLER_EN,
    "dpo_contact_nl": DPO_CONTACT_NL,
    "dpo_contact_en": DPO_CONTACT_EN,
}

# What each purpose's retention sentence says, as rules (consent.retention). Payments keep
# account data for the tax record-keeping obligation (7 years, counted by the bank from
# the end of the relationship); fraud detection keeps transactions 5 years (Wwft art. 33).
# The consent-based purposes keep offers and the data-use log 1 year, and the proof of
# the customer's choices 5 years after the relationship ends: as long as the customer
# (Dutch civil code art. 3:310: five years) or the regulator can hold the bank to account
# for having used the data, and the same as the Wwft's five years after the relationship
# for the customer file. Then the chain goes whole, and only the fact that it was removed
# (a tombstone: customer number, how many events, the last hash) stays.
_AS_LONG_AS_A_CUSTOMER_7_YEARS = [
    {"data": "transactions", "years": 7, "from": "relationship_end", "because": "tax"},
    {"data": "accounts", "years": 7, "from": "relationship_end", "because": "tax"},
    {"data": "profile", "years": 7, "from": "relationship_end", "because": "tax"},
]
_OFFERS_1_YEAR = [
    {"data": "offers", "years": 1, "from": "offer_closed"},
    {"data": "data_use", "years": 1, "from": "read"},
    {"data": "consent_proof", "years": 5, "from": "relationship_end", "because": "claims"},
]
RETENTION_RULES = {
    "payments": _AS_LONG_AS_A_CUSTOMER_7_YEARS,
    "fraud_prevention": [
        {"data": "transactions", "years": 5, "from": "transaction", "because": "wwft"}
    ],
    "offers_spending": _OFFERS_1_YEAR,
    "offers_income": _OFFERS_1_YEAR,
    "offers_balance": _OFFERS_1_YEAR,
}

PURPOSES = (
    {
        "code": "payments",
        "legal_basis": "contract",
        "required": True,
        "direct_marketing": False,
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
        "recipients_nl": (
            "De bank van wie u betaalt of van wie u geld krijgt, en de betaalsystemen die"
            " een betaling verwerken (zoals kaartorganisaties). Nooit voor hun marketing."
        ),
        "recipients_en": (
            "The bank of whoever you pay or who pays you, and the payment systems that"
            " process a payment (such as card schemes). Never for their marketing."
        ),
        **WHO_RUNS_IT,
    },
    {
        "code": "fraud_prevention",
        "legal_basis": "legal_obligation",
        "required": True,
        "direct_marketing": False,
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
        "recipients_nl": (
            "Alleen de bank zelf; bij een ongebruikelijke transactie de Financial Intelligence"
            " Unit Nederland, omdat de wet ons verplicht die te melden."
        ),
        "recipients_en": (
            "Only the bank itself; for an unusual transaction the Financial Intelligence Unit"
            " Netherlands, because the law obliges us to report it."
        ),
        **WHO_RUNS_IT,
    },
    {
        "code": "offers_spending",
        "legal_basis": "consent",
        "required": False,
        "direct_marketing": True,
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
        "recipients_nl": BANK_ONLY_NL,
        "recipients_en": BANK_ONLY_EN,
        **WHO_RUNS_IT,
    },
    {
        "code": "offers_income",
        "legal_basis": "consent",
        "required": False,
        "direct_marketing": True,
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
        "recipients_nl": BANK_ONLY_NL,
        "recipients_en": BANK_ONLY_EN,
        **WHO_RUNS_IT,
    },
    {
        "code": "offers_balance",
        "legal_basis": "consent",
        "required": False,
        "direct_marketing": True,
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
        "recipients_nl": BANK_ONLY_NL,
        "recipients_en": BANK_ONLY_EN,
        **WHO_RUNS_IT,
    },
)

# What a purpose is (fixed once created) ...
PURPOSE_FIELDS = (
    "code",
    "legal_basis",
    "required",
    "direct_marketing",
    "position",
    "dpia_reference",
)
# ... and what its notice says, per published version: the texts, in both languages, that a
# privacy officer writes when publishing, plus the machine-readable data categories.
VERSION_TEXT_FIELDS = (
    "title_nl",
    "title_en",
    "description_nl",
    "description_en",
    "data_used_nl",
    "data_used_en",
    "retention_nl",
    "retention_en",
    "recipients_nl",
    "recipients_en",
    "controller_nl",
    "controller_en",
    "dpo_contact_nl",
    "dpo_contact_en",
)
VERSION_FIELDS = (*VERSION_TEXT_FIELDS, "data_categories")
# The retention sentences of a version published from now on are generated from its
# rules (`consent.retention.describe_rules`), never typed.
GENERATED_TEXT_FIELDS = ("retention_nl", "retention_en")

# What a customer reads next to "stop all personal offers" and next to lifting that
# objection. The ledger stores the SHA-256 of the text shown, as for a purpose's notice,
# so these are constants here, never translations a .po file could alter. Every wording
# ever shown stays in these tuples, oldest first, and a new wording is added at the end:
# the verifier and the receipts find the text an objection event names by its hash.
OBJECTION_NOTICES = (
    {
        "nl": (
            "Stop alle persoonlijke aanbiedingen. Wij zetten al uw keuzes voor aanbiedingen"
            " uit en leggen vast dat u bezwaar maakt tegen direct marketing: dat wij uw"
            " gegevens gebruiken om u producten aan te bieden (AVG artikel 21 lid 2). Zolang"
            " uw bezwaar geldt, doen wij dat niet, ook niet als u iets aanzet. U kunt uw"
            " bezwaar later zelf opheffen."
        ),
        "en": (
            "Stop all personal offers. We switch off all your choices for offers and record"
            " that you object to direct marketing: our using your data to offer you products"
            " (GDPR Article 21(2)). As long as your objection stands, we do not do that, not"
            " even if you switch something on. You can lift your objection yourself later."
        ),
    },
    # Plain language: the article number moved to the page's details.
    {
        "nl": (
            "Stop alle persoonlijke aanbiedingen. Wij zetten al uw keuzes voor aanbiedingen"
            " uit en leggen vast dat u bezwaar maakt tegen direct marketing: dat wij uw"
            " gegevens gebruiken om u producten aan te bieden. Zolang uw bezwaar geldt, doen"
            " wij dat niet, ook niet als u iets aanzet. U kunt uw bezwaar later zelf opheffen."
        ),
        "en": (
            "Stop all personal offers. We switch off all your choices for offers and record"
            " that you object to direct marketing: our using your data to offer you products."
            " As long as your objection stands, we do not do that, not even if you switch"
            " something on. You can lift your objection yourself later."
        ),
    },
)
LIFT_OBJECTION_NOTICES = (
    {
        "nl": (
            "Bezwaar tegen direct marketing opheffen. Daarmee gaat nog niets aan: daarna kunt u"
            " zelf kiezen welke aanbiedingen u wilt."
        ),
        "en": (
            "Lift the objection to direct marketing. This switches nothing on: afterwards you"
            " choose yourself which offers you want."
        ),
    },
)
# What a customer reads before asking to erase what consent-based processing produced
# about them (GDPR Art. 17). Its hash goes into the `erasure_requested` event, like an
# objection's: every wording ever shown stays here.
ERASURE_NOTICES = (
    {
        "nl": (
            "Verwijder wat wij voor persoonlijke aanbiedingen over mij hebben gemaakt. Wij"
            " verwijderen meteen al uw aanbiedingen, uw antwoorden daarop (ook een verzoek om"
            " u te bellen) en het overzicht van wat wij met uw gegevens deden. Dit kan niet"
            " ongedaan worden gemaakt. Wat blijft: het bewijs van uw keuzes, ook van dit"
            " verzoek, omdat wij moeten kunnen aantonen wat u koos; en uw rekening- en"
            " betaalgegevens, die de wet ons verplicht te bewaren. Uw keuzes blijven zoals"
            " ze zijn."
        ),
        "en": (
            "Erase what you made about me for personal offers. We erase at once all your"
            " offers, your answers to them (also a request to call you) and the log of what"
            " we did with your data. This cannot be undone. What stays: the proof of your"
            " choices, this request included, because we must be able to show what you"
            " chose; and your account and payment data, which the law obliges us to keep."
            " Your choices stay as they are."
        ),
    },
)
# What a `left` event records (the system writes it when the relationship ends; the
# customer is told by letter, not on a screen).
LEFT_NOTICES = (
    {
        "nl": (
            "U bent geen klant meer van de bank. Wij hebben al uw toestemmingen uitgezet en"
            " gebruiken uw gegevens niet meer voor aanbiedingen. Wat de wet ons laat of"
            " verplicht te bewaren, bewaren wij zo lang als de teksten zeggen, gerekend vanaf"
            " de dag dat u vertrok; daarna verwijderen wij het."
        ),
        "en": (
            "You are no longer a customer of the bank. We switched off every consent you"
            " gave and no longer use your data for offers. What the law allows or obliges us"
            " to keep, we keep as long as the notices say, counted from the day you left;"
            " then we remove it."
        ),
    },
)
STATEMENTS = {
    "objected": OBJECTION_NOTICES,
    "objection_lifted": LIFT_OBJECTION_NOTICES,
    "erasure_requested": ERASURE_NOTICES,
    "left": LEFT_NOTICES,
}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def statement_text(action: str, language: str) -> str:
    """The statement shown now for `objected`, `objection_lifted`, `erasure_requested` or
    recorded for `left`."""
    return STATEMENTS[action][-1][text_language(language)]


def statement_sha256(action: str, language: str) -> str:
    return _sha256(statement_text(action, language))


def statement_with_hash(action: str, language: str, sha256: str) -> str | None:
    """The wording, of all ever shown, whose hash a purpose-less event recorded."""
    for texts in STATEMENTS.get(action, ()):
        if _sha256(texts[text_language(language)]) == sha256:
            return texts[text_language(language)]
    return None
