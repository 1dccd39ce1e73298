"""The customer's pages (README, The customer's pages). Each view makes one call into the domain.

Who may open them, and how, is in `consent.decorators`: `customer_page` and
`customer_choice`.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.vary import vary_on_headers
from django.views.i18n import set_language as django_set_language

from consent.choices import (
    CHOICES,
    ChoiceError,
    RequiredPurpose,
    UnknownPurpose,
    already_chosen_message,
    lift_objection,
    record_choice,
    stop_all_offers,
)
from ledger.models import Action, Channel
from ledger.proofs import prove, summary

from .advance_notices import coming_ends
from .catalogue import statement_with_hash
from .dashboard import (
    customer_dashboard,
    get_event_for_customer,
    get_published_version,
    history_page,
)
from .decorators import (
    CHOSEN_LANGUAGE,
    IN_CARD,
    allow,
    customer_choice,
    customer_page,
    posted_version,
)
from .export import readable_export, stream_export
from .history_lines import history_lines
from .languages import remember_language
from .models import Customer
from .notices import readable_notice
from .receipts import policy_url, receipt_download


def _to_card(request, purpose_code):
    return reverse("dashboard"), f"purpose-{purpose_code}"


def _to_stop_all(request):
    return reverse("dashboard"), "stop-all-section"


def _to_objection(request):
    return reverse("dashboard"), "summary"


@customer_page()
def dashboard(request):
    return _dashboard_page(request)


@customer_choice(_to_card)
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
            version=posted_version(request),
            notice_sha256=request.POST.get("notice_sha256", ""),
            language=request.LANGUAGE_CODE,
        )
    except UnknownPurpose:
        raise Http404(purpose_code) from None
    except ChoiceError as error:
        # Understood, refused, nothing written: a changed text, under 16, an objection,
        # a required purpose. The customer sees the current card and why.
        return _card_response(request, purpose_code, refused=error, at=now, status=409)
    message = _choice_message(recorded, action, request.LANGUAGE_CODE)
    if not request.htmx:
        # Back to the card, not to the top of the page; the message is in the card.
        messages.success(request, message, extra_tags=f"{IN_CARD} purpose-{purpose_code}")
        return redirect(f"{reverse('dashboard')}#purpose-{purpose_code}")
    return _card_response(request, purpose_code, message=message, at=now)


@customer_page()
@vary_on_headers("HX-Request")
def card_state(request, purpose_code):
    """What is stored for this purpose now, as the customer's card: site.js asks this when
    a choice's answer got lost, before it says whether the choice was saved. Safe to
    repeat; without JavaScript it is the dashboard at that card."""
    now = timezone.now()
    page = customer_dashboard(request.customer, language=request.LANGUAGE_CODE, at=now)
    found = next((card for card in page.cards if card.code == purpose_code), None)
    if found is None:  # no such purpose, or no published text yet
        raise Http404(purpose_code)
    if not request.htmx:
        return redirect(f"{reverse('dashboard')}#purpose-{purpose_code}")
    return HttpResponse(_card_html(request, found, page, at=now))


@customer_choice(_to_stop_all)
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
        % {"count": withdrawn}
        if withdrawn
        else _("Er stond niets aan, dus er hoefde niets uit."),
        _(
            "Uw bezwaar is vastgelegd: zolang het geldt, gebruiken wij uw gegevens niet voor"
            " aanbiedingen."
        ),
        *recorded.effects.sentences(),
    ]
    messages.success(request, " ".join(sentences))
    return redirect("dashboard")


@customer_choice(_to_objection)
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
            "Uw bezwaar tegen persoonlijke aanbiedingen is opgeheven. Er staat nog niets aan: u"
            " kiest hieronder zelf wat u wilt."
        ),
    )
    return redirect("dashboard")


@customer_page()
def history(request):
    page = history_page(request.customer, language=request.LANGUAGE_CODE, at=timezone.now())
    context = {
        "lines": history_lines(page.lines, viewer_id=request.user.pk),
        "proof_kept": page.proof_kept,
    }
    return render(request, "consent/history.html", context)


@customer_page()
def receipt(request, event_id):
    return receipt_download(request, get_event_for_customer(request.customer, event_id))


@customer_page()
def receipt_page(request, event_id):
    """The same proof as the JSON receipt, readable: what, when, which text, how to check."""
    event = get_event_for_customer(request.customer, event_id)
    context = {
        "event": event,
        "title": event.purpose_version.text("title", request.LANGUAGE_CODE)
        if event.purpose_version
        else "",
        # An objection's statement, in the language it was read (its hash is of that text).
        "statement": statement_with_hash(event.action, event.notice_language, event.notice_sha256)
        if event.purpose is None
        else "",
        # Where the event is in the transparency log, and which checkpoint proves it.
        "proof": summary(prove(event)),
        # The first event of a chain points at no choice: its previous hash is all zeros.
        "first_in_chain": not event.previous_hash.strip("0"),
    }
    return render(request, "consent/receipt.html", context)


@customer_page()
def export_page(request):
    return render(request, "consent/export.html")


@customer_page()
def export_json(request):
    # Streamed: transactions come from a server-side cursor in chunks, never all at once.
    response = StreamingHttpResponse(
        stream_export(request.customer, policy_url=lambda event: policy_url(request, event)),
        content_type="application/json",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="privacykeuzes-{request.customer.customer_number}.json"'
    )
    return response


@customer_page()
def export_html(request):
    """The same data as `/export.json`, as a page to read (or print)."""
    data = readable_export(request.customer, language=request.LANGUAGE_CODE)
    return render(request, "consent/export_html.html", {"data": data})


@allow("GET", "HEAD")
def purpose_version(request, purpose_code, version):
    """The exact published text of one version, in both languages, with its hashes.

    Public: a notice is what the bank publishes, not personal data.
    """
    notice = get_published_version(purpose_code, version, at=timezone.now())
    context = {
        "notice": notice,
        "readable": [readable_notice(notice, language) for language in ("nl", "en")],
    }
    return render(request, "consent/purpose_version.html", context)


def _dashboard_page(request, *, page=None, refusal=None, status=200):
    """The whole dashboard; `page`: its cards, when the caller has read them already."""
    now = timezone.now()
    if page is None:
        page = customer_dashboard(request.customer, language=request.LANGUAGE_CODE, at=now)
    # Messages for one card go into that card (the page opens there, at its #anchor);
    # the rest stay at the top of the page.
    results, top = {}, []
    for message in messages.get_messages(request):
        tags = message.extra_tags.split()
        if IN_CARD in tags and len(tags) > 1:
            results[tags[1]] = message
        else:
            top.append(message)
    lines = [(card, results.pop(f"purpose-{card.code}", None)) for card in page.cards]
    context = {
        "dashboard": page,
        # Consents that stop counting soon, told at the top (`consent.advance_notices`).
        "coming": coming_ends(page, at=now),
        "cards": page.cards,
        "lines": lines,
        "refusal": refusal,
        "stop_all_result": results.pop("stop-all-section", None),
        # Messages for a card that is not there (an unknown code) are shown at the top.
        "messages": top + list(results.values()),
        # Other apps' sections (settings.DASHBOARD_SECTIONS): consent imports none of them.
        "sections": [
            s
            for n in settings.DASHBOARD_SECTIONS
            if (s := import_string(n)(request.customer, at=now))
        ],
    }
    return render(request, "consent/dashboard.html", context, status=status)


def _card_response(request, purpose_code, *, at, message=None, refused=None, status=200):
    """The card as it is now, with `message` in it, the summary at the top of the page
    and the live region (htmx); without JavaScript the whole dashboard, saying the same
    at the top."""
    page = customer_dashboard(request.customer, language=request.LANGUAGE_CODE, at=at)
    card = next((card for card in page.cards if card.code == purpose_code), None)
    if card is None:  # a purpose with no published text yet
        return _refused(
            request,
            _("Voor dit doel is nog geen tekst gepubliceerd. Er is niets opgeslagen."),
            status=status,
        )
    if refused is not None:
        message = _refusal_text(refused, card)
    if not request.htmx:
        return _dashboard_page(request, page=page, refusal=message, status=status)
    html = _card_html(
        request, card, page, message, at=at, failed=refused is not None, announce=True
    )
    return HttpResponse(html, status=status)


def _card_html(request, card, page, message=None, *, at, failed=False, announce=False):
    """The card, with `message` in it (`failed`: a refusal, shown as one), and the summary
    at the top of the page as of `at`, the moment the cards were read (htmx swaps it out
    of band: the count of choices that are on, what stops counting soon); `announce`: the
    live region too, reading `message` out."""
    context = {
        "card": card,
        "result": message,
        "failed": failed,
        "dashboard": page,
        "coming": coming_ends(page, at=at),
        "announce": announce,
        "announcement": message,
    }
    return render_to_string("consent/card_answer.html", context, request)


def _refusal_text(error, card):
    """Why a choice was refused, naming the purpose as the customer reads it."""
    if isinstance(error, RequiredPurpose):
        if card.purpose.legal_basis == "legal_obligation":
            text = _("‘%(title)s’ is verplicht volgens de wet en kan niet worden uitgezet.")
        else:
            text = _("‘%(title)s’ is nodig voor uw rekening en kan niet worden uitgezet.")
        return text % {"title": card.title}
    return str(error)


def _refused(request, message, *, status):
    return render(request, "consent/choice_refused.html", {"message": message}, status=status)


def _choice_message(recorded, action, language):
    if recorded.unchanged:
        return str(already_chosen_message())
    (event,) = recorded.events
    title = event.purpose_version.text("title", language)
    if recorded.renewed:
        return _(
            "U heeft uw toestemming voor ‘%(title)s’ verlengd: de termijn begint vandaag opnieuw."
        ) % {"title": title}
    if action == Action.GRANTED:
        return _("U heeft toestemming gegeven voor ‘%(title)s’.") % {"title": title}
    sentences = [
        _(
            "U heeft uw toestemming voor ‘%(title)s’ ingetrokken. Wij gebruiken uw gegevens"
            " hier vanaf nu niet meer voor."
        )
        % {"title": title},
        *recorded.effects.sentences(),
    ]
    return " ".join(sentences)


def set_language(request):
    """Django's language switch (POST; a GET goes back), and the choice sticks: a
    customer's is stored on the customer; one made before logging in is kept in the
    session, and the login carries it over (`consent.decorators`)."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.method != "POST" or language not in dict(settings.LANGUAGES):
        return response
    if not request.user.is_authenticated:
        request.session[CHOSEN_LANGUAGE] = language
        return response
    customer = Customer.objects.filter(user=request.user).first()
    stored = customer is not None and remember_language(customer=customer, language=language)
    if stored and request.POST.get("setting"):
        with translation.override(language):
            messages.success(request, _("Opgeslagen. Wij gebruiken voortaan deze taal."))
    return response


@customer_page()
def language_setting(request):
    """The customer's language as stored, and where to change it (without JavaScript)."""
    return render(request, "consent/language.html", {"stored": request.customer.language})
