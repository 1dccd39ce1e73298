"""What the bank tells customers in words the ledger hashes: who runs the processing
(controller, DPO), the statements of purpose-less events (objection, erasure, leaving),
and which fields a purpose's notice has.

The purposes themselves and their first texts are not here: the data migrations that
created them carry them, frozen as they were published (`consent/migrations/0002`, `0004`
and `0008`). A new purpose is a new migration (docs/recipes/add-a-purpose.md); later
versions are published by a privacy officer (the versions table refuses UPDATE).
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
# The data categories a notice names for machines (`data_categories`: receipts, the Art. 30
# record), and how people read each one. Every category a published version names has
# its words here (a test says so); a new category gets its words before it is published.
DATA_CATEGORIES = {
    "account": {"nl": "uw rekeninggegevens", "en": "your account details"},
    "transactions": {"nl": "uw betalingen", "en": "your payments"},
    "card_payments.country": {
        "nl": "het land waar u met uw pas betaalt",
        "en": "the country where you pay by card",
    },
    "card_payments.merchant_category": {
        "nl": "het soort winkel waar u met uw pas betaalt",
        "en": "the kind of shop where you pay by card",
    },
    "incoming_payments.institutional_payer": {
        "nl": "of een betaling aan u van een bekende instelling komt, zoals DUO",
        "en": "whether a payment to you comes from a known institution, such as DUO",
    },
    "account_balances": {
        "nl": "het saldo van uw betaalrekening",
        "en": "the balance of your current account",
    },
    "products_held": {
        "nl": "welke producten u al bij ons heeft",
        "en": "which products you already have with us",
    },
    "profile.age": {
        "nl": "uw leeftijd (uit uw geboortedatum)",
        "en": "your age (from your date of birth)",
    },
    "profile.name": {"nl": "uw naam", "en": "your name"},
    "profile.email": {"nl": "uw e-mailadres", "en": "your e-mail address"},
    "profile.language": {"nl": "de taal waarin u ons leest", "en": "the language you read us in"},
    # The contact channels (consent 0013): how we may reach the customer about offers.
    "profile.phone": {"nl": "uw telefoonnummer", "en": "your phone number"},
    "profile.address": {"nl": "uw adres", "en": "your address"},
}


# What every notice of a purpose based on consent says, inside its hashed text (at the end
# of its description): that the consent can always be withdrawn, and how. A test checks
# every such purpose's current text; published versions carry it written out.
WITHDRAWAL_SENTENCE = {
    "nl": (
        "U kunt uw toestemming altijd intrekken, met één klik op de pagina Mijn"
        " privacykeuzes, zonder gevolgen voor uw producten bij ons."
    ),
    "en": (
        "You can always withdraw your consent, with one click on the My privacy choices"
        " page, without consequences for your products with us."
    ),
}


def category_words(codes: list[str] | tuple[str, ...], language: str) -> str:
    """The categories as people read them: "uw naam, uw e-mailadres en …"."""
    language = text_language(language)
    words = [DATA_CATEGORIES.get(code, {}).get(language, code) for code in codes]
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + (" en " if language == "nl" else " and ") + words[-1]


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
