"""Engine runs from the admin (staff with `start_offerrun`: reviewers, privacy officers):
start a run for a date on the workers, resume an unfinished one, and the progress panel
that a run's page (`OfferRunAdmin`) fetches again while the run is open
(static/admin-extra/offer-run.js: the CSP forbids inline scripts).

A run for a date that is not finished is resumed, not started again (`tasks.start_run`);
one unfinished with other rules must be resumed first.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from infra.staffsite import post_only, staff_page, staff_view
from offers import tasks
from offers.engine import RunInProgress, RunUnfinished, run_progress
from offers.forms import StartRunForm
from offers.models import OPEN_RUN_STATUSES, OfferRun

START = "offers.start_offerrun"


@staff_view
@permission_required(START, raise_exception=True)
def start(request):
    now = timezone.now()
    form = StartRunForm(
        request.POST if request.method == "POST" else None,
        initial={"as_of": timezone.localdate(now)},
    )
    if form.is_valid():
        data = form.cleaned_data
        response = _start(request, as_of=data["as_of"], rule_codes=data["rules"], now=now)
        if response is not None:
            return response
    context = {
        "title": _("Run van de engine starten"),
        "opts": OfferRun._meta,
        "form": form,
        "open_runs": OfferRun.objects.filter(status__in=OPEN_RUN_STATUSES).order_by("as_of"),
    }
    return staff_page(request, "admin/offers/offerrun/start.html", context)


@staff_view
@post_only
@permission_required(START, raise_exception=True)
def resume(request, run_id):
    run = get_object_or_404(OfferRun, pk=run_id)
    response = _start(request, as_of=run.as_of, rule_codes=run.rules, now=timezone.now())
    return response or HttpResponseRedirect(reverse("admin:offers_offerrun_change", args=[run.pk]))


@staff_view
@permission_required("offers.view_offerrun", raise_exception=True)
def progress(request, run_id):
    """The progress panel alone (no layout around it)."""
    get_object_or_404(OfferRun, pk=run_id)
    return TemplateResponse(
        request, "admin/offers/offerrun/progress.html", {"progress": run_progress(run_id=run_id)}
    )


def _start(request, *, as_of, rule_codes, now):
    """Start (or resume) the run, and go to its page; None when another request is
    starting it right now (the form says so again)."""
    try:
        run, resumed = tasks.start_run(
            as_of=as_of, now=now, rule_codes=rule_codes, started_by=request.user
        )
    except RunUnfinished as unfinished:
        messages.error(
            request,
            _(
                "De run voor %(day)s is nog niet klaar, met andere regels (%(rules)s)."
                " Hervat eerst die run."
            )
            % {"day": date_format(as_of, "j F Y"), "rules": ", ".join(unfinished.run.rules)},
        )
        return HttpResponseRedirect(
            reverse("admin:offers_offerrun_change", args=[unfinished.run.pk])
        )
    except RunInProgress:
        messages.error(
            request,
            _("Er wordt op dit moment al een run voor %(day)s gestart. Probeer het zo nog eens.")
            % {"day": date_format(as_of, "j F Y")},
        )
        return None
    if resumed:
        message = _(
            "De run voor %(day)s was nog niet klaar en wordt hervat: alleen de delen die"
            " nog niet klaar waren, worden opnieuw gedaan."
        )
    else:
        message = _("De run voor %(day)s staat klaar voor de workers.")
    messages.success(request, message % {"day": date_format(run.as_of, "j F Y")})
    return HttpResponseRedirect(reverse("admin:offers_offerrun_change", args=[run.pk]))
