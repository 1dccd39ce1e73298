from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("in de wachtrij")
    RUNNING = "running", _("bezig")
    SUCCEEDED = "succeeded", _("gelukt")
    FAILED = "failed", _("mislukt")


class ScheduledRun(models.Model):
    """One attempt at one slot of a scheduled job (config/schedule.py).

    (job, slot, attempt) is unique: of any number of schedulers ticking at once, one
    inserts the row, and it queues the task in the same transaction. A retry is the next
    attempt's row. The process doing a run holds a session lock on it (`runs.RUN_LOCK`)
    until it is recorded as ended: a row `running` that nobody holds was left by a process
    that died."""

    job = models.CharField(_("taak"), max_length=64)
    slot_at = models.DateTimeField(_("gepland voor"))
    attempt = models.PositiveSmallIntegerField(_("poging"))
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    queued_at = models.DateTimeField(_("in de wachtrij gezet op"))
    started_at = models.DateTimeField(_("gestart op"), null=True, blank=True)
    finished_at = models.DateTimeField(_("geëindigd op"), null=True, blank=True)
    worker = models.CharField(_("proces"), max_length=255, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    outcome = models.TextField(_("uitkomst"), blank=True)
    error = models.TextField(_("fout"), blank=True)

    class Meta:
        verbose_name = _("geplande run")
        verbose_name_plural = _("geplande runs")
        ordering = ["-slot_at", "job", "-attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "slot_at", "attempt"], name="one_row_per_job_slot_attempt"
            ),
            models.CheckConstraint(condition=Q(attempt__gte=1), name="attempts_count_from_1"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(finished_at__gte=F("started_at")),
                name="scheduled_run_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running"], finished_at__isnull=True)
                | Q(status__in=["succeeded", "failed"], finished_at__isnull=False),
                name="scheduled_run_finished_when_ended",
            ),
        ]
        indexes = [models.Index(fields=["job", "-slot_at", "-attempt"], name="newest_run_per_job")]

    def __str__(self):
        return f"{self.job} {self.slot_at:%Y-%m-%d %H:%M} #{self.attempt}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None
