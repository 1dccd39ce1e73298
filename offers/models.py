"""Banking data the engine may read, the bank's products, and the offers it makes.

Banking data (`Account`, `Holding`, `Transaction`) is read for offers only through
`offers.gate`, which joins valid consent into its SQL (docs/gate.md); an architecture test
keeps it that way. Integrity lives in the database: kinds, statuses, amounts and codes
are CHECK constraints, and "one open offer per customer and product" is a partial
unique index, so an interrupted or concurrent engine run cannot create a second one.
"""

import datetime as dt

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from banking.models import Product
from consent.models import Customer, PurposeVersion
from consent.validity import valid_consents
from infra.languages import in_language
from ledger.models import ConsentEvent


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("in de wachtrij")
    RUNNING = "running", _("bezig")
    FINISHED = "finished", _("klaar")
    FAILED = "failed", _("mislukt")
    # Runs of the engine before runs had chunks, stopped half-way; never set any more.
    INTERRUPTED = "interrupted", _("onderbroken")


# A run is open while its chunks may still be done: at most one per as-of date (the partial
# unique index `one_open_run_per_as_of`), whatever process or machine starts it.
OPEN_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class OfferRun(models.Model):
    """One engine run for an as-of date: what it looked at and what it did, per rule.

    Its work is a set of chunks (`OfferRunChunk`), done in this process or by workers; it
    finishes when its last chunk does, and its counts are then the sum of its chunks'.
    """

    as_of = models.DateField(_("peildatum"))
    rules = models.JSONField(_("regels"), default=list)
    # When the run started: consent is judged at this moment, whoever does a chunk, when.
    started_at = models.DateTimeField(_("begonnen om"))
    finished_at = models.DateTimeField(_("klaar om"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    # {rule code: {"considered": n, "candidates": n, "offered": n, "already_offered": n,
    #  "suppressed_by_policy": n}}: the sum of the chunks', written when the run finishes.
    counts = models.JSONField(_("aantallen per regel"), default=dict)
    expired = models.PositiveIntegerField(_("verlopen"), default=0)
    retracted = models.PositiveIntegerField(_("ingetrokken"), default=0)
    # When the run's supervisor task is next due (workers only). One supervisor per run: a
    # supervisor due at another moment was replaced, after an outage or a rerun, and stops.
    supervisor_due_at = models.DateTimeField(_("volgende controle om"), null=True, blank=True)
    # Who started it from the admin (empty: a command, e.g. the nightly scheduled job).
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gestart door"),
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("run van de engine")
        verbose_name_plural = _("runs van de engine")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="run_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True)
                | models.Q(finished_at__gte=models.F("started_at")),
                name="run_finishes_after_start",
            ),
            # Two runs for the same as-of date never overlap: a second one cannot even be
            # created while one is queued or running (a rerun resumes that one instead).
            models.UniqueConstraint(
                fields=["as_of"],
                condition=models.Q(status__in=[s.value for s in OPEN_RUN_STATUSES]),
                name="one_open_run_per_as_of",
            ),
        ]
        permissions = [("start_offerrun", _("Mag een run van de engine starten of hervatten"))]

    def __str__(self):
        return gettext("run van %(day)s (%(status)s)") % {
            "day": date_format(self.as_of, "j F Y"),
            "status": self.get_status_display(),
        }

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RUN_STATUSES


class ChunkStatus(models.TextChoices):
    QUEUED = "queued", _("in de wachtrij")
    RUNNING = "running", _("bezig")
    DONE = "done", _("klaar")
    FAILED = "failed", _("mislukt")


class OfferRunChunk(models.Model):
    """One slice of a run's customers (ids `first_customer_id`..`last_customer_id`): one
    task, one transaction. Its offers, their events, the data-use log and `done` commit
    together, so a chunk is either wholly done or not at all.

    `running` with no process holding the row's lock means its worker died: the process
    doing a chunk holds `SELECT … FOR UPDATE` on this row until it commits, and a killed
    process's lock goes with its connection (`offers.tasks` queues such chunks again).
    """

    run = models.ForeignKey(
        OfferRun, on_delete=models.PROTECT, related_name="chunks", verbose_name=_("run")
    )
    number = models.PositiveIntegerField(_("nummer"))
    first_customer_id = models.BigIntegerField(_("eerste klant-id"))
    last_customer_id = models.BigIntegerField(_("laatste klant-id"))
    status = models.CharField(
        _("status"), max_length=10, choices=ChunkStatus.choices, default=ChunkStatus.QUEUED
    )
    # Attempts since the run was started or last resumed (a resume starts failed chunks
    # afresh); an attempt is counted before its work begins, so a killed one counts too.
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=0)
    # The process of the latest attempt, "host:pid", for whoever has to find it.
    worker = models.CharField(_("verwerkt door"), max_length=200, blank=True, default="")
    # The task that should do it next (its id in the task backend); how a chunk whose task
    # ended without doing it is found and queued again.
    task_id = models.CharField(_("taak"), max_length=64, blank=True, default="")
    queued_at = models.DateTimeField(_("in de wachtrij gezet om"), null=True, blank=True)
    started_at = models.DateTimeField(_("begonnen om"), null=True, blank=True)
    finished_at = models.DateTimeField(_("klaar om"), null=True, blank=True)
    # The chunk's share of the run's counts, per rule (as OfferRun.counts).
    counts = models.JSONField(_("aantallen per regel"), default=dict)
    # Why the latest attempt failed, in one line (the traceback is in the task's result).
    error = models.TextField(_("fout"), blank=True, default="")

    class Meta:
        ordering = ["run", "number"]
        verbose_name = _("deel van een run")
        verbose_name_plural = _("delen van runs")
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="one_chunk_per_number"),
            models.CheckConstraint(
                condition=models.Q(status__in=ChunkStatus.values), name="chunk_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(first_customer_id__lte=models.F("last_customer_id")),
                name="chunk_customers_in_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ChunkStatus.DONE)
                | models.Q(finished_at__isnull=False, attempts__gte=1),
                name="chunk_done_when_finished",
            ),
        ]

    def __str__(self):
        return gettext("deel %(number)s van run %(run)s") % {
            "number": self.number,
            "run": self.run_id,
        }

    def give_up_if_abandoned(self, max_attempts: int) -> bool:
        """Fail the (locked) chunk if processes that took it died `max_attempts` times:
        it is still `running`, with nobody working on it. True if it failed now."""
        if self.status != ChunkStatus.RUNNING or self.attempts < max_attempts:
            return False
        self.status = ChunkStatus.FAILED
        self.error = f"the process doing it stopped, {self.attempts} times"
        self.save(update_fields=["status", "error"])
        return True

    @property
    def offered(self) -> int:
        return sum(numbers.get("offered", 0) for numbers in self.counts.values())


class OfferStatus(models.TextChoices):
    PROPOSED = "proposed", _("voorgesteld")
    APPROVED = "approved", _("goedgekeurd")
    REJECTED = "rejected", _("afgewezen")
    DISMISSED = "dismissed", _("niet geïnteresseerd")
    ACCEPTED = "accepted", _("geïnteresseerd")
    RETRACTED = "retracted", _("ingetrokken")
    EXPIRED = "expired", _("verlopen")


# Open: the customer has not answered yet, so it may still be shown (docs/gate.md policy).
OPEN_STATUSES = (OfferStatus.PROPOSED, OfferStatus.APPROVED)


class OfferQuerySet(models.QuerySet):
    def consent_still_valid(self, *, at: dt.datetime):
        """Offers every consent event of which is still the customer's valid consent at
        `at` (checked again at review and at display time, in the same SQL).

        The event itself must be the current, valid state: a consent withdrawn and given
        again is a new choice, and an offer made on the old one does not count.
        """
        relied = Offer.relied_on.through.objects.filter(offer_id=OuterRef("pk"))
        lapsed = relied.exclude(
            Exists(valid_consents(at=at).filter(event_id=OuterRef("consentevent_id")))
        )
        return self.filter(Exists(relied)).exclude(Exists(lapsed))

    def shown_to_customers(self, *, at: dt.datetime):
        """What a customer sees on `/offers/`: approved, not past its date, consent valid."""
        return self.filter(
            status=OfferStatus.APPROVED, valid_until__gte=timezone.localdate(at)
        ).consent_still_valid(at=at)


class Offer(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="offers", verbose_name=_("klant")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="offers", verbose_name=_("product")
    )
    rule = models.CharField(_("regel"), max_length=40)
    run = models.ForeignKey(
        OfferRun, on_delete=models.PROTECT, related_name="offers", verbose_name=_("run")
    )
    as_of = models.DateField(_("peildatum"))
    status = models.CharField(
        _("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.PROPOSED
    )
    explanation_nl = models.TextField(_("uitleg voor de klant (Nederlands)"))
    explanation_en = models.TextField(_("uitleg voor de klant (Engels)"))
    # What the customer reads: their own details ("balance € 12.500,00").
    evidence_nl = models.CharField(_("gegevens van de klant (Nederlands)"), max_length=300)
    evidence_en = models.CharField(_("gegevens van de klant (Engels)"), max_length=300)
    # What staff read: banded, never an exact amount ("balance above € 10.000").
    staff_evidence_nl = models.CharField(_("waarom (Nederlands)"), max_length=300)
    staff_evidence_en = models.CharField(_("waarom (Engels)"), max_length=300)
    relied_on = models.ManyToManyField(
        ConsentEvent,
        related_name="+",
        verbose_name=_("toestemmingen waarop het steunt"),
        help_text=_(
            "De toestemmingen waarop dit aanbod steunt; wordt er een ingetrokken, dan wordt"
            " het aanbod ingetrokken."
        ),
    )
    created_at = models.DateTimeField(_("gemaakt op"))
    valid_until = models.DateField(_("geldig tot en met"))
    status_changed_at = models.DateTimeField(_("status gewijzigd op"))
    # Who last acted on the offer in the review queue, and when (docs/gate.md: a person looks
    # at every offer before a customer sees it; the bank must be able to say who).
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("beoordeeld door"),
    )
    reviewed_at = models.DateTimeField(_("beoordeeld op"), null=True, blank=True)
    rejection_reason = models.TextField(_("reden van afwijzing"), blank=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("aanbod")
        verbose_name_plural = _("aanbiedingen")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=OfferStatus.values), name="offer_status_known"
            ),
            models.UniqueConstraint(
                fields=["customer", "product"],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="one_open_offer_per_product",
            ),
            # What makes a rerun for the same as-of date a no-op.
            models.UniqueConstraint(
                fields=["customer", "rule", "as_of"], name="one_offer_per_rule_and_day"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=OfferStatus.REJECTED) | ~models.Q(rejection_reason=""),
                name="rejection_needs_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("as_of")),
                name="offer_valid_after_as_of",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="offer_queue")]
        permissions = [
            ("review_offer", _("Mag aanbiedingen in de wachtrij goedkeuren of afwijzen")),
        ]

    def __str__(self):
        # Staff see customers by their number, never by an internal id.
        return gettext("%(product)s voor klant %(number)s") % {
            "product": self.product.name(get_language() or "nl"),
            "number": self.customer.customer_number,
        }

    def explanation(self, language: str) -> str:
        return in_language(self, "explanation", language)

    def evidence(self, language: str) -> str:
        return in_language(self, "evidence", language)

    def staff_evidence(self, language: str) -> str:
        return in_language(self, "staff_evidence", language)


# --- Every change to an offer, kept ------------------------------------------------------
class ActorKind(models.TextChoices):
    STAFF = "staff", _("medewerker")
    CUSTOMER = "customer", _("klant")
    SYSTEM = "system", _("systeem")


class EventKind(models.TextChoices):
    STATUS = "status", _("status van het aanbod")
    FOLLOW_UP = "follow_up", _("terugbellen")


class Cause(models.TextChoices):
    """Why an offer changed: what staff read in its history."""

    ENGINE = "engine", _("voorgesteld door de engine")
    REVIEW = "review", _("beoordeling")
    CUSTOMER_ANSWER = "customer_answer", _("antwoord van de klant")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("toestemming ingetrokken")
    MATERIAL_CHANGE = "material_change", _("tekst materieel gewijzigd")
    CONSENT_LAPSED = "consent_lapsed", _("toestemming geldt niet meer")
    PAST_VALID_UNTIL = "past_valid_until", _("geldigheidsdatum voorbij")
    FOLLOW_UP = "follow_up", _("terugbellen")
    # The customer left the bank (`lifecycle.leaving.close_customer`).
    CUSTOMER_LEFT = "customer_left", _("klant is vertrokken")
    # "Stop alle persoonlijke aanbiedingen": the objection to direct marketing.
    OBJECTION = "objection", _("bezwaar tegen direct marketing")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("open")
    CALLED = "called", _("gebeld")
    CLOSED = "closed", _("afgesloten")


class FollowUpOutcome(models.TextChoices):
    TAKEN = "taken", _("klant neemt het product")
    DECLINED = "declined", _("klant ziet ervan af")
    UNREACHABLE = "unreachable", _("klant niet bereikt")
    # Closed by the system, never chosen by staff: the customer withdrew the consent the
    # offer relied on, or objected to direct marketing. Nobody may call them about it.
    WITHDRAWN = "withdrawn", _("klant trok toestemming in")
    OBJECTED = "objected", _("klant maakte bezwaar")


# The outcomes a contact-centre employee chooses when closing a call.
STAFF_OUTCOMES = (FollowUpOutcome.TAKEN, FollowUpOutcome.DECLINED, FollowUpOutcome.UNREACHABLE)


# The offer's life (docs/gate.md): from which statuses each status may be reached. The engine
# creates offers as `proposed` (from nothing, ""); everything else is a move listed here.
# `offers.transitions` moves only along these, and a CHECK on OfferEvent says the same.
STATUS_MOVES = {
    OfferStatus.PROPOSED: ("",),
    OfferStatus.APPROVED: (OfferStatus.PROPOSED,),
    OfferStatus.REJECTED: (OfferStatus.PROPOSED,),
    OfferStatus.ACCEPTED: (OfferStatus.APPROVED,),
    OfferStatus.DISMISSED: (OfferStatus.APPROVED,),
    OfferStatus.RETRACTED: OPEN_STATUSES,
    OfferStatus.EXPIRED: OPEN_STATUSES,
}
# A follow-up: opened when the customer says "Interessant", called, closed with an outcome.
# Staying in the same status is a move too: a new owner, or another call attempt.
FOLLOW_UP_MOVES = {
    FollowUpStatus.OPEN: ("", FollowUpStatus.OPEN),
    FollowUpStatus.CALLED: (FollowUpStatus.OPEN, FollowUpStatus.CALLED),
    FollowUpStatus.CLOSED: (FollowUpStatus.OPEN, FollowUpStatus.CALLED),
}


def _moves(kind: str, moves: dict) -> models.Q:
    allowed = models.Q()
    for to, froms in moves.items():
        allowed |= models.Q(kind=kind, to_state=to, from_state__in=[str(f) for f in froms])
    return allowed


@pgtrigger.register(
    # Append-only, like the consent ledger. (The runtime database role gets no UPDATE or
    # DELETE on this table either: it belongs in the registry of append-only tables.)
    pgtrigger.Protect(
        name="offer_events_append_only", operation=pgtrigger.Update | pgtrigger.Delete
    )
)
class OfferEvent(models.Model):
    """One change to an offer, forever: its status, or its follow-up by the contact centre.

    Written only by `offers.transitions`, in the same statement or transaction as the
    change itself. Who acted is a staff member, the customer (their user) or the system
    (then `run` names the engine run, if it was one); a retraction names the consent event
    or the purpose version that caused it.
    """

    offer = models.ForeignKey(
        Offer, on_delete=models.PROTECT, related_name="events", verbose_name=_("aanbod")
    )
    kind = models.CharField(_("soort"), max_length=10, choices=EventKind.choices)
    from_state = models.CharField(_("van"), max_length=10, blank=True)
    to_state = models.CharField(_("naar"), max_length=10)
    occurred_at = models.DateTimeField(_("wanneer"))
    actor_kind = models.CharField(_("door"), max_length=10, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("wie"),
    )
    cause = models.CharField(_("aanleiding"), max_length=20, choices=Cause.choices)
    reason = models.TextField(_("reden of notitie"), blank=True, db_default="")
    consent_event = models.ForeignKey(
        ConsentEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("toestemmingsgebeurtenis"),
    )
    purpose_version = models.ForeignKey(
        PurposeVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tekstversie"),
    )
    run = models.ForeignKey(
        OfferRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("run"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("eigenaar"),
    )
    outcome = models.CharField(
        _("uitkomst"), max_length=12, choices=FollowUpOutcome.choices, blank=True, db_default=""
    )

    class Meta:
        ordering = ["offer", "occurred_at", "pk"]
        verbose_name = _("gebeurtenis bij een aanbod")
        verbose_name_plural = _("gebeurtenissen bij aanbiedingen")
        constraints = [
            models.CheckConstraint(
                condition=_moves(EventKind.STATUS, STATUS_MOVES)
                | _moves(EventKind.FOLLOW_UP, FOLLOW_UP_MOVES),
                name="offer_event_move_allowed",
            ),
            models.CheckConstraint(
                condition=models.Q(actor_kind=ActorKind.SYSTEM, actor__isnull=True)
                | models.Q(
                    actor_kind__in=[ActorKind.STAFF, ActorKind.CUSTOMER], actor__isnull=False
                ),
                name="offer_event_actor_named",
            ),
            models.CheckConstraint(
                condition=models.Q(cause__in=Cause.values), name="offer_event_cause_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=EventKind.STATUS, to_state=OfferStatus.REJECTED)
                | ~models.Q(reason=""),
                name="offer_event_rejection_has_reason",
            ),
            # The consent event or version that caused a change is only ever a retraction's.
            models.CheckConstraint(
                condition=models.Q(consent_event__isnull=True, purpose_version__isnull=True)
                | models.Q(kind=EventKind.STATUS, to_state=OfferStatus.RETRACTED),
                name="offer_event_cause_only_on_retraction",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=EventKind.FOLLOW_UP, to_state=FollowUpStatus.CLOSED)
                & ~models.Q(outcome="")
                | ~models.Q(kind=EventKind.FOLLOW_UP, to_state=FollowUpStatus.CLOSED)
                & models.Q(outcome=""),
                name="offer_event_closed_has_outcome",
            ),
        ]
        indexes = [models.Index(fields=["offer", "occurred_at"], name="offer_event_history")]

    def __str__(self):
        return f"{self.offer_id}: {self.from_state or '-'} → {self.to_state}"

    @property
    def from_display(self) -> str:
        return self._state_display(self.from_state)

    @property
    def to_display(self) -> str:
        return self._state_display(self.to_state)

    @property
    def by(self) -> str:
        """Who made the change, as staff read it in the history."""
        if self.actor_kind == ActorKind.SYSTEM:
            return gettext("systeem")
        if self.actor_kind == ActorKind.CUSTOMER:
            return gettext("de klant")
        if self.actor is None:  # a staff member's account since removed
            return gettext("medewerker")
        name = self.actor.get_full_name() or self.actor.get_username()
        return gettext("medewerker %(name)s") % {"name": name}

    def _state_display(self, state: str) -> str:
        if not state:
            return "—"
        choices = OfferStatus if self.kind == EventKind.STATUS else FollowUpStatus
        return str(choices(state).label)


class FollowUp(models.Model):
    """A customer said "Interessant": the contact centre calls them about the offer.

    The current state of the follow-up; its history is in `OfferEvent` (kind follow_up).
    Written only by `offers.transitions`.
    """

    offer = models.OneToOneField(
        Offer, on_delete=models.PROTECT, related_name="follow_up", verbose_name=_("aanbod")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("eigenaar"),
    )
    outcome = models.CharField(
        _("uitkomst"), max_length=12, choices=FollowUpOutcome.choices, blank=True, default=""
    )
    opened_at = models.DateTimeField(_("klant geïnteresseerd op"))
    changed_at = models.DateTimeField(_("laatst gewijzigd"))

    class Meta:
        ordering = ["opened_at", "pk"]
        verbose_name = _("terugbelverzoek")
        verbose_name_plural = _("terugbellijst")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=FollowUpStatus.values),
                name="follow_up_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(status=FollowUpStatus.CLOSED, outcome__in=FollowUpOutcome.values)
                | (~models.Q(status=FollowUpStatus.CLOSED) & models.Q(outcome="")),
                name="follow_up_closed_has_outcome",
            ),
        ]
        indexes = [models.Index(fields=["status", "opened_at"], name="follow_up_list")]

    def __str__(self):
        return gettext("Terugbellen: %(offer)s") % {"offer": self.offer}


class DataUse(models.Model):
    """One time the offers engine read a customer's data under one purpose: one row per
    (run, customer, purpose), written by the consent gate in the transaction that read
    the data, from the rows it read (never reconstructed afterwards).

    `features` and `window_days` say what was read (e.g. card payments, 90 days up to the
    run's as-of date). The outcome ("niets gevonden" / "aanbieding voorgesteld") is not
    stored: it is the offers of that run that relied on `consent_event`, joined when
    shown, so a later retraction or answer never contradicts the log.

    Written up to a few hundred thousand rows per run in one INSERT: no foreign-key
    constraints (Django makes them deferred, checked row by row at COMMIT) and no index
    besides the primary key, which leads with the customer for the customer's page. The
    rows it points to are never deleted (the ledger and accounts refuse DELETE).
    """

    pk = models.CompositePrimaryKey("customer_id", "run_id", "purpose_id")
    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="+", verbose_name=_("klant"),
    )  # fmt: skip
    run = models.ForeignKey(
        OfferRun, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="+", verbose_name=_("run"),
    )  # fmt: skip
    purpose = models.ForeignKey(
        "consent.Purpose", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="+", verbose_name=_("doel"),
    )  # fmt: skip
    consent_event = models.ForeignKey(
        ConsentEvent, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="+", verbose_name=_("toestemmingsgebeurtenis"),
    )  # fmt: skip
    read_at = models.DateTimeField(_("gelezen op"))
    features = ArrayField(models.CharField(max_length=30), verbose_name=_("gelezen gegevens"))
    window_days = models.PositiveSmallIntegerField(_("periode in dagen"))

    class Meta:
        ordering = ["-read_at"]
        verbose_name = _("gebruik van gegevens")
        verbose_name_plural = _("gebruik van gegevens")

    def __str__(self):
        return f"run {self.run_id}: {self.customer_id} / {self.purpose_id}"
