"""Customers' choices: the customers, the purpose catalogue and the current state.

The choices themselves are events in the ledger (`ledger.models.ConsentEvent`); the state
here mirrors the latest of them per customer and purpose, for fast reads. Published notice
versions refuse UPDATE and DELETE through triggers, and required purposes are exactly the
ones not based on consent.
"""

import datetime as dt
import hashlib

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from infra.languages import in_language, text_language
from ledger.models import (
    STATE_ACTIONS,
    Action,
    Channel,
    ConsentEvent,
    Language,
    about_a_purpose_or_not,
)

# How a notice's text is laid out (`PurposeVersion.notice_format`). 1: the notices
# published before retention rules existed; 2: with the rules inside the hashed text.
NOTICE_FORMATS = (1, 2)


class Customer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="customer",
        verbose_name=_("gebruiker"),
    )
    # Kept when the customer's profile is pseudonymised: the ledger's HMACs, the signed
    # checkpoints and the tombstone of a removed chain name the customer by this number.
    customer_number = models.CharField(_("klantnummer"), max_length=20, unique=True)
    first_name = models.CharField(_("voornaam"), max_length=100)
    last_name = models.CharField(_("achternaam"), max_length=100)
    email = models.EmailField(_("e-mailadres"))
    # Empty only once the profile is pseudonymised (a CHECK says so).
    birth_date = models.DateField(_("geboortedatum"), null=True, blank=True)
    language = models.CharField(
        _("taal"), max_length=2, choices=Language.choices, default=Language.DUTCH
    )
    # For the contact centre's follow-up calls; optional (import_customers' `phone`).
    phone = models.CharField(_("telefoonnummer"), max_length=20, blank=True, db_default="")
    # The day the customer relationship ended (`close_customer`): from then on the customer
    # is not processed, and the retention periods counted from the end start. Set once; a
    # trigger refuses changing or clearing it, and a date in the future.
    closed_on = models.DateField(_("klant af op"), null=True, blank=True)
    # The day the profile was pseudonymised, after the last retention period ran out.
    pseudonymised_on = models.DateField(_("gepseudonimiseerd op"), null=True, blank=True)
    # Set when a restore of an older backup lost choices the customer made after this
    # moment (`consent.services.stop_after_lost_choices`); cleared by their next choice.
    choices_lost_since = models.DateTimeField(_("keuzes verloren sinds"), null=True, blank=True)

    class Meta:
        ordering = ["customer_number"]
        verbose_name = _("klant")
        verbose_name_plural = _("klanten")
        constraints = [
            # A pseudonymised profile holds nothing but the number, and only a customer
            # who left is pseudonymised; everyone else has a date of birth.
            models.CheckConstraint(
                condition=models.Q(pseudonymised_on__isnull=True, birth_date__isnull=False)
                | models.Q(
                    pseudonymised_on__isnull=False,
                    closed_on__isnull=False,
                    first_name="",
                    last_name="",
                    email="",
                    phone="",
                    birth_date__isnull=True,
                ),
                name="customer_pseudonymised_is_empty",
            ),
        ]

    def __str__(self):
        return self.customer_number

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: dt.date) -> int:
        if self.birth_date is None:  # pseudonymised: no age any more
            return 0
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)


class LegalBasis(models.TextChoices):
    CONTRACT = "contract", _("Overeenkomst (AVG art. 6 lid 1 sub b)")
    LEGAL_OBLIGATION = "legal_obligation", _("Wettelijke plicht (AVG art. 6 lid 1 sub c)")
    CONSENT = "consent", _("Toestemming (AVG art. 6 lid 1 sub a)")


@pgtrigger.register(
    # What a purpose *is* is part of every notice's hashed text (the legal basis) and of
    # every consent's meaning: it never changes once created. Texts change by versions.
    pgtrigger.Protect(
        name="purpose_classification_is_fixed",
        operation=pgtrigger.Update,
        condition=pgtrigger.AnyChange("code", "legal_basis", "required", "direct_marketing"),
    )
)
class Purpose(models.Model):
    """A use the bank makes of customers' data. What the customer reads about it (data,
    retention, recipients, controller) lives in its published versions."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    legal_basis = models.CharField(_("grondslag"), max_length=20, choices=LegalBasis.choices)
    required = models.BooleanField(
        _("nodig voor de dienst"),
        help_text=_("Nodig om de dienst te leveren; de klant kan het niet uitzetten."),
    )
    direct_marketing = models.BooleanField(
        _("direct marketing"),
        default=False,
        help_text=_("Verwerking voor direct marketing: een bezwaar (AVG art. 21 lid 2) stopt het."),
    )
    dpia_reference = models.CharField(_("DPIA-kenmerk"), max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(_("volgorde"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("doel")
        verbose_name_plural = _("doelen")
        permissions = [
            (
                "view_privacy_overview",
                _("Mag het privacyoverzicht en het register van verwerkingen zien"),
            ),
        ]
        constraints = [
            # A purpose is optional exactly when it rests on consent.
            models.CheckConstraint(
                condition=models.Q(required=True, legal_basis__in=["contract", "legal_obligation"])
                | models.Q(required=False, legal_basis="consent"),
                name="purpose_required_iff_not_consent",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def is_consent_based(self) -> bool:
        return self.legal_basis == LegalBasis.CONSENT


# (version id, published_at, legal basis, language) -> the notice's SHA-256; see below.
_NOTICE_HASHES: dict[tuple, str] = {}


@pgtrigger.register(
    pgtrigger.Protect(
        name="published_versions_are_immutable", operation=pgtrigger.Update | pgtrigger.Delete
    )
)
class PurposeVersion(models.Model):
    """The notice a customer reads for a purpose. Published once, never edited.

    Everything GDPR Art. 13 asks the customer to be told is a field here, in Dutch and
    English, and all of it is in `notice_text`, whose SHA-256 the ledger stores: the
    proof of what a customer read covers the data, the retention, the recipients, the
    controller and the DPO, not only the title.
    """

    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="versions", verbose_name=_("doel")
    )
    version = models.PositiveIntegerField(_("versie"))
    material = models.BooleanField(
        _("materieel"),
        help_text=_(
            "Een materiële wijziging maakt eerdere toestemmingen ongeldig tot de klant opnieuw"
            " kiest."
        ),
    )
    published_at = models.DateTimeField(_("geldt vanaf"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gepubliceerd door"),
    )
    title_nl = models.CharField(_("titel (Nederlands)"), max_length=120)
    title_en = models.CharField(_("titel (Engels)"), max_length=120)
    description_nl = models.TextField(_("beschrijving (Nederlands)"))
    description_en = models.TextField(_("beschrijving (Engels)"))
    data_used_nl = models.TextField(_("welke gegevens (Nederlands)"))
    data_used_en = models.TextField(_("welke gegevens (Engels)"))
    # Machine-readable categories (receipts, the Art. 30 record); `data_used_*` says the
    # same in words.
    data_categories = ArrayField(
        models.CharField(max_length=60), verbose_name=_("categorieën gegevens")
    )
    retention_nl = models.TextField(_("bewaartermijn (Nederlands)"))
    retention_en = models.TextField(_("bewaartermijn (Engels)"))
    # The periods, machine-readable (`consent.retention`): the one source that
    # `enforce_retention` removes by. From format 2 on they are a line of the hashed
    # notice text and the sentences above are generated from them.
    retention_rules = models.JSONField(_("bewaarregels"), default=list)
    # How `notice_text` lays the notice out. Versions keep the format they were published
    # in, so the hash every ledger event stored of their text stays the same.
    notice_format = models.PositiveSmallIntegerField(_("opmaak van de tekst"), default=2)
    recipients_nl = models.TextField(_("ontvangers (Nederlands)"))
    recipients_en = models.TextField(_("ontvangers (Engels)"))
    controller_nl = models.TextField(_("verwerkingsverantwoordelijke (Nederlands)"))
    controller_en = models.TextField(_("verwerkingsverantwoordelijke (Engels)"))
    dpo_contact_nl = models.TextField(_("functionaris gegevensbescherming (Nederlands)"))
    dpo_contact_en = models.TextField(_("functionaris gegevensbescherming (Engels)"))

    class Meta:
        ordering = ["purpose", "version"]
        verbose_name = _("tekstversie")
        verbose_name_plural = _("tekstversies")
        constraints = [
            models.UniqueConstraint(fields=["purpose", "version"], name="one_number_per_version"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="version_from_one"),
            models.CheckConstraint(
                condition=models.Q(notice_format__in=NOTICE_FORMATS), name="notice_format_known"
            ),
        ]

    def __str__(self):
        return f"{self.purpose_id}/v{self.version}"

    def text(self, field: str, language: str) -> str:
        return in_language(self, field, language)

    def notice_text(self, language: str) -> str:
        """The exact notice a customer reads in `language`; its hash goes into the ledger."""
        labels = NOTICE_LABELS[text_language(language)]
        lines = [self.text("title", language), "", self.text("description", language), ""]
        lines += [
            f"{labels['data_used']}: {self.text('data_used', language)}",
            f"{labels['data_categories']}: {', '.join(self.data_categories)}",
            f"{labels['legal_basis']}: {LEGAL_BASIS_TEXT[self.purpose.legal_basis][language]}",
            f"{labels['retention']}: {self.text('retention', language)}",
        ]
        if self.notice_format >= 2:
            from consent.retention_rules import machine_line

            lines.append(f"{labels['retention_rules']}: {machine_line(self.retention_rules)}")
        lines += [
            *(
                f"{labels[field]}: {self.text(field, language)}"
                for field in ("recipients", "controller", "dpo_contact")
            ),
            f"{labels['version']}: {self.version}",
        ]
        return "\n".join(lines)

    def notice_sha256(self, language: str) -> str:
        if self.pk is None:
            return hashlib.sha256(self.notice_text(language).encode()).hexdigest()
        # A stored version never changes (the `published_versions_are_immutable` trigger),
        # so its hash is computed once per process: every card and every choice asks it.
        key = (self.pk, self.published_at, self.purpose.legal_basis, language)
        found = _NOTICE_HASHES.get(key)
        if found is None:
            found = hashlib.sha256(self.notice_text(language).encode()).hexdigest()
            if len(_NOTICE_HASHES) >= 1024:
                _NOTICE_HASHES.clear()
            _NOTICE_HASHES[key] = found
        return found

    def language_of(self, notice_sha256: str) -> str | None:
        """The language whose text has this hash: which text the customer had on screen."""
        for language in ("nl", "en"):
            if self.notice_sha256(language) == notice_sha256:
                return language
        return None


# The labels inside a notice's hashed text. Changing one changes every notice's hash, so
# they are plain constants here, not translations that a .po file could alter.
NOTICE_LABELS = {
    "nl": {
        "data_used": "Welke gegevens",
        "data_categories": "Categorieën",
        "legal_basis": "Grondslag",
        "retention": "Bewaartermijn",
        "retention_rules": "Bewaarregels (machineleesbaar)",
        "recipients": "Ontvangers",
        "controller": "Verwerkingsverantwoordelijke",
        "dpo_contact": "Functionaris gegevensbescherming",
        "version": "Tekstversie",
    },
    "en": {
        "data_used": "Data used",
        "data_categories": "Categories",
        "legal_basis": "Legal basis",
        "retention": "Retention",
        "retention_rules": "Retention rules (machine-readable)",
        "recipients": "Recipients",
        "controller": "Controller",
        "dpo_contact": "Data protection officer",
        "version": "Text version",
    },
}
LEGAL_BASIS_TEXT = {
    "contract": {
        "nl": "nodig voor de overeenkomst met u (AVG artikel 6 lid 1 onder b)",
        "en": "necessary for the contract with you (GDPR Article 6(1)(b))",
    },
    "legal_obligation": {
        "nl": "wettelijke plicht van de bank (AVG artikel 6 lid 1 onder c)",
        "en": "a legal obligation of the bank (GDPR Article 6(1)(c))",
    },
    "consent": {
        "nl": "uw toestemming (AVG artikel 6 lid 1 onder a)",
        "en": "your consent (GDPR Article 6(1)(a))",
    },
}


class ConsentState(models.Model):
    """The current choice per customer and purpose, for fast reads; the row with an empty
    purpose is the customer's objection to direct marketing (`objected` or lifted).

    Written only by `consent.services`, together with the event it mirrors.
    """

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="consent_states",
        verbose_name=_("klant"),
    )
    purpose = models.ForeignKey(
        Purpose,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("doel"),
    )
    state = models.CharField(_("stand"), max_length=20, choices=Action.choices)
    purpose_version = models.ForeignKey(
        PurposeVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tekstversie"),
    )
    changed_at = models.DateTimeField(_("gewijzigd op"))
    event = models.OneToOneField(
        ConsentEvent, on_delete=models.PROTECT, related_name="+", verbose_name=_("gebeurtenis")
    )

    class Meta:
        verbose_name = _("huidige keuze")
        verbose_name_plural = _("huidige keuzes")
        constraints = [
            # One row per purpose, and one objection row (NULL purpose) per customer.
            models.UniqueConstraint(
                fields=["customer", "purpose"], name="one_state_per_purpose", nulls_distinct=False
            ),
            # Never an erasure request: that changes no choice.
            models.CheckConstraint(
                condition=models.Q(state__in=[a.value for a in STATE_ACTIONS]), name="state_known"
            ),
            models.CheckConstraint(condition=about_a_purpose_or_not("state"), name="state_shape"),
        ]
        indexes = [
            # The gate's lookup: granted consents for one purpose.
            models.Index(
                fields=["purpose", "customer"],
                condition=models.Q(state="granted"),
                name="granted_by_purpose",
            ),
        ]

    def __str__(self):
        return f"{self.customer_id}/{self.purpose_id}: {self.state}"


@pgtrigger.register(
    # Append-only, like the ledger it annotates. (The runtime database role gets no UPDATE
    # or DELETE on this table either: it belongs in the registry of append-only tables.)
    pgtrigger.Protect(
        name="staff_actions_append_only", operation=pgtrigger.Update | pgtrigger.Delete
    )
)
class StaffAction(models.Model):
    """A choice a staff member recorded for a customer who phoned or came to a branch.

    The ledger event itself says who acted (`actor`, the staff member) and how
    (`channel`); this row adds what the ledger has no field for: that the customer's
    identity was checked, and the staff member's note of what the customer asked. One per
    event; the ledger's fields and hash chain are untouched.
    """

    event = models.OneToOneField(
        ConsentEvent,
        on_delete=models.PROTECT,
        related_name="staff_action",
        verbose_name=_("gebeurtenis"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("medewerker"),
    )
    channel = models.CharField(_("kanaal"), max_length=10, choices=Channel.choices)
    identity_checked = models.BooleanField(_("identiteit gecontroleerd"))
    note = models.TextField(_("notitie"))
    recorded_at = models.DateTimeField(_("vastgelegd op"))

    class Meta:
        verbose_name = _("handeling namens een klant")
        verbose_name_plural = _("handelingen namens klanten")
        permissions = [
            ("act_for_customer", _("Mag op verzoek van een klant diens keuzes vastleggen")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__in=[Channel.PHONE, Channel.BRANCH]),
                name="staff_action_by_phone_or_branch",
            ),
            models.CheckConstraint(
                condition=models.Q(identity_checked=True), name="staff_action_identity_checked"
            ),
            models.CheckConstraint(condition=~models.Q(note=""), name="staff_action_has_note"),
        ]

    def __str__(self):
        return f"{self.event_id}: {self.staff_id} ({self.channel})"


class AdvanceNotice(models.Model):
    """A service message the customer gets before a consent stops counting: thirty days
    before its last valid day, or as soon as a material text version is scheduled
    (`consent.advance_notices`). One row per customer, purpose, reason and what it is
    about (`key`: the last valid day, or the new version's id), UNIQUE: the row is
    inserted before the e-mail goes out, and only the sender whose insert won sends, so
    no notice goes out twice, however many senders run at once."""

    class Reason(models.TextChoices):
        EXPIRY = "expiry", _("toestemming verloopt")
        TEXT_CHANGE = "text_change", _("tekst verandert")

    class Status(models.TextChoices):
        # Claimed and being sent. A row that stays here (the process died between the
        # send and the update) is never sent again: at most once, never twice.
        SENDING = "sending", _("wordt verstuurd")
        SENT = "sent", _("verstuurd")
        # The mail server refused or was not reached: the next run tries again.
        FAILED = "failed", _("mislukt, wordt opnieuw geprobeerd")
        NO_ADDRESS = "no_address", _("niet verstuurd: geen e-mailadres")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("klant")
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="+", verbose_name=_("doel")
    )
    # The text the customer consented to: the title the message names.
    version = models.ForeignKey(
        PurposeVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("tekstversie")
    )
    reason = models.CharField(_("reden"), max_length=20, choices=Reason.choices)
    key = models.CharField(_("waarover"), max_length=40)
    # The day the message names: the last valid day, or the day the new text takes effect.
    about_day = models.DateField(_("datum in het bericht"))
    language = models.CharField(_("taal"), max_length=2, choices=Language.choices)
    status = models.CharField(_("stand"), max_length=20, choices=Status.choices)
    not_sent_because = models.CharField(_("niet verstuurd omdat"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=1)
    claimed_at = models.DateTimeField(_("klaargezet op"))
    sent_at = models.DateTimeField(_("verstuurd op"), null=True, blank=True)

    class Meta:
        verbose_name = _("vooraankondiging")
        verbose_name_plural = _("vooraankondigingen")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "purpose", "reason", "key"], name="advance_notice_once"
            ),
            models.CheckConstraint(
                condition=models.Q(status="sent", sent_at__isnull=False)
                | (~models.Q(status="sent") & models.Q(sent_at__isnull=True)),
                name="advance_notice_sent_at_iff_sent",
            ),
        ]

    def __str__(self):
        return f"{self.customer_id}/{self.purpose_id}: {self.reason} {self.key} ({self.status})"
