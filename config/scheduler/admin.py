"""The schedule's runs, read-only, for superusers and *Privacy officers* (the permission
*view*): per attempt the job, its slot, status, when it started, how long it took and
what it said. Nobody adds, changes or deletes a run here: the schedule writes them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ledger.admin import ReadOnlyAdmin

from .models import ScheduledRun


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "slot_at", "status", "attempt", "started_at", "took", "outcome")
    list_filter = ("job", "status")
    date_hierarchy = "slot_at"
    fields = (
        "job",
        "slot_at",
        "attempt",
        "status",
        "queued_at",
        "started_at",
        "finished_at",
        "took",
        "worker",
        "outcome",
        "error",
    )
    readonly_fields = fields

    @admin.display(description=_("duur"))
    def took(self, run):
        duration = run.duration
        return f"{duration.total_seconds():.1f} s" if duration is not None else "–"
