"""The customer's pages (DESIGN §9). Each view makes one call into the domain.

Every view that shows or changes personal data is `customer_required`: it only ever
reads the logged-in customer's rows, so guessing another id gives a 404, never data.
Pages with personal data are `never_cache`, for shared computers.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from .dashboard import (
    customer_dashboard,
    customer_history,
    get_event_for_customer,
    get_published_version,
)
from .export import customer_export
from .models import Action, Channel, Customer
from .receipts import consent_receipt
from .services import (
    ChoiceError,
    UnknownPurpose,
    lift_objection,
    record_choice,
    stop_all_offers,
)

# The form field `choice` and the ledger action it records; anything else is a 400.
CHOICES = {"grant": Action.GRANTED, "withdraw": Action.WITHDRAWN}


def customer_required(view):
    """Logged in, and a bank customer: sets `request.customer`.

    Anonymous visitors go to the login page. A staff member without a customer record
    gets a page that says so, rather than an empty dashboard or a crash.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                # A session that ran out while the page was open: send the whole page to
                # the login, not the login form into a card. Afterwards, the dashboard.
                return HttpResponseClientRedirect(
                    f"{resolve_url(settings.LOGIN_URL)}?next={reverse('dashboard')}"
                )
            return redirect_to_login(request.get_full_path())
        try:
            request.customer = request.user.customer
        except Customer.DoesNotExist:
            return render(request, "consent/no_customer.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
@never_cache
@customer_required
def dashboard(request):
    return _dashboard_page(request)


@require_POST
@never_cache
@customer_required
def choose(request, purpose_code):
    action = CHOICES.get(request.POST.get("choice", ""))
    if action is None:
        return _refused(request, _("Kies ‘aanzetten’ of ‘uitzetten’."), status=400)
    now = timezone.now()
    try:
        recorded = record_choice(
            customer=request.customer,
            purpose_code=purpose_code,
            action=action,
            channel=Channel.WEB,
            actor=request.user,
            at=now,
            version=_int_or_none(request.POST.get("version")),
            notice_sha256=request.POST.get("notice_sha256", ""),
            language=request.LANGUAGE_CODE,
        )
    except UnknownPurpose:
        raise Http404(purpose_code) from None
    except ChoiceError as error:
        # Understood, refused, nothing written: a changed text, under 16, an objection,
        # a required purpose. The customer sees the current card and why.
        return _card_response(request, purpose_code, message=str(error), at=now, status=409)
    message = _choice_message(recorded, action, request.LANGUAGE_CODE)
    if not request.htmx:
        messages.success(request, message)
        return redirect("dashboard")
    return _card_response(request, purpose_code, message=message, at=now)


@require_POST
@never_cache
@customer_required
def stop_all(request):
    recorded = stop_all_offers(
        customer=request.customer,
        channel=Channel.WEB,
        actor=request.user,
        at=timezone.now(),
        language=request.LANGUAGE_CODE,
    )
    withdrawn = sum(1 for event in recorded.events if event.action == Action.WITHDRAWN)
    sentences = [
        _("Alle persoonlijke aanbiedingen zijn gestopt."),
        ngettext("%(count)d keuze is uitgezet.", "%(count)d keuzes zijn uitgezet.", withdrawn)
        % {"count": withdrawn},
        _(
            "Uw bezwaar tegen direct marketing is vastgelegd: zolang het geldt, gebruiken wij"
            " uw gegevens niet voor aanbiedingen."
        ),
        *_effects_sentences(recorded.effects),
    ]
    messages.success(request, " ".join(sentences))
    return redirect("dashboard")


@require_POST
@never_cache
@customer_required
def lift_objection_view(request):
    try:
        lift_objection(
            customer=request.customer,
            channel=Channel.WEB,
            actor=request.user,
            at=timezone.now(),
            language=request.LANGUAGE_CODE,
        )
    except ChoiceError as error:
        messages.info(request, str(error))
        return redirect("dashboard")
    messages.success(
        request,
        _(
            "Uw bezwaar tegen direct marketing is opgeheven. Er staat nog niets aan: u kiest"
            " hieronder zelf wat u wilt."
        ),
    )
    return redirect("dashboard")


@require_GET
@never_cache
@customer_required
def history(request):
    events = customer_history(request.customer)
    return render(request, "consent/history.html", {"events": events})


@require_GET
@never_cache
@customer_required
def receipt(request, event_id):
    event = get_event_for_customer(request.customer, event_id)
    if event.purpose is None:  # an objection: its statement is in the receipt itself
        policy_url = request.build_absolute_uri(reverse("dashboard"))
    else:
        policy_url = request.build_absolute_uri(
            reverse("purpose_version", args=[event.purpose.code, event.purpose_version.version])
        )
    response = JsonResponse(
        consent_receipt(event, policy_url=policy_url),
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
    response["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{event.receipt_id}.json"'
    )
    return response


@require_GET
@never_cache
@customer_required
def export_page(request):
    return render(request, "consent/export.html")


@require_GET
@never_cache
@customer_required
def export_json(request):
    response = JsonResponse(
        customer_export(request.customer), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = (
        f'attachment; filename="privacykeuzes-{request.customer.customer_number}.json"'
    )
    return response


@require_GET
def purpose_version(request, purpose_code, version):
    """The exact published text of one version, in both languages, with its hashes.

    Public: a notice is what the bank publishes, not personal data.
    """
    notice = get_published_version(purpose_code, version, at=timezone.now())
    context = {
        "notice": notice,
        "notice_nl": notice.notice_text("nl"),
        "notice_en": notice.notice_text("en"),
    }
    return render(request, "consent/purpose_version.html", context)


def _dashboard_page(request, *, message=None, status=200):
    page = customer_dashboard(request.customer, language=request.LANGUAGE_CODE, at=timezone.now())
    context = {"dashboard": page, "cards": page.cards, "refusal": message}
    return render(request, "consent/dashboard.html", context, status=status)


def _card_response(request, purpose_code, *, message, at, status=200):
    """The card as it is now, with `message` in it and in the live region (htmx); without
    JavaScript the whole dashboard, saying the same at the top."""
    if not request.htmx:
        return _dashboard_page(request, message=message, status=status)
    page = customer_dashboard(
        request.customer, language=request.LANGUAGE_CODE, at=at, code=purpose_code
    )
    if len(page.cards) != 1:  # a purpose with no published text yet
        return _refused(request, message, status=status)
    (card,) = page.cards
    html = render_to_string(
        "consent/dashboard.html#card", {"card": card, "result": message}, request
    ) + render_to_string("consent/dashboard.html#announcement", {"announcement": message})
    return HttpResponse(html, status=status)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _refused(request, message, *, status):
    return render(request, "consent/choice_refused.html", {"message": message}, status=status)


def _choice_message(recorded, action, language):
    (event,) = recorded.events
    title = event.purpose_version.text("title", language)
    if action == Action.GRANTED:
        return _("U heeft toestemming gegeven voor ‘%(title)s’.") % {"title": title}
    sentences = [
        _(
            "U heeft uw toestemming voor ‘%(title)s’ ingetrokken. Wij gebruiken uw gegevens"
            " hier vanaf nu niet meer voor."
        )
        % {"title": title},
        *_effects_sentences(recorded.effects),
    ]
    return " ".join(sentences)


def _effects_sentences(effects):
    """What the apps behind a withdrawal did (consent.hooks), in the customer's words."""
    sentences = []
    if count := effects.get("offers_retracted", 0):
        sentences.append(
            ngettext(
                "%(count)d open aanbieding die hierop steunde is ingetrokken.",
                "%(count)d open aanbiedingen die hierop steunden zijn ingetrokken.",
                count,
            )
            % {"count": count}
        )
    return sentences
