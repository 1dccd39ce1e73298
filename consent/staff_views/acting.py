"""Acting for a customer (*Klantenservice*): a customer who phones or visits a branch asks
a staff member to switch a purpose on or off, to stop all personal offers, or to lift
their objection.

The page shows the text to read out, in the customer's language, and asks how the
customer asks (phone or branch), for the identity check and for a note. One purpose (or
stop all, or lift the objection) at a time: no bulk action. It goes through
`act_for_customer`, bound to the text on the staff member's screen; whatever the rules
refuse is said in words for staff, next to the text as it is now.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.choices import ChoiceError, ObjectionStands, StaleNotice, TooYoung
from consent.forms import ActForCustomerForm
from consent.models import Customer
from consent.staff import PERMISSION, STAFF_CHANNELS, act_for_customer, done_by_staff, notice_for
from infra.staffsite import staff_page, staff_view
from ledger.models import Action

# The actions staff can record, as the URL names them, and the ledger action each is.
STAFF_ACTIONS = {
    "grant": Action.GRANTED,
    "withdraw": Action.WITHDRAWN,
    "stop-all": Action.OBJECTED,
    "lift-objection": Action.OBJECTION_LIFTED,
}
ACTION_TITLES = {
    Action.GRANTED: _("Aanzetten namens de klant"),
    Action.WITHDRAWN: _("Uitzetten namens de klant"),
    Action.OBJECTED: _("Alle persoonlijke aanbiedingen stoppen namens de klant"),
    Action.OBJECTION_LIFTED: _("Bezwaar opheffen namens de klant"),
}


@staff_view
@permission_required(("consent.view_customer", PERMISSION), raise_exception=True)
def act(request, number, action):
    customer = get_object_or_404(Customer, customer_number=number)
    action = STAFF_ACTIONS.get(action)
    if action is None:
        raise Http404
    purpose_code = request.GET.get("purpose") or request.POST.get("purpose") or None
    if action in (Action.GRANTED, Action.WITHDRAWN) and not purpose_code:
        raise Http404
    now = timezone.now()
    try:
        notice = notice_for(customer=customer, action=action, purpose_code=purpose_code, at=now)
    except ChoiceError:
        raise Http404 from None
    version_on_screen = notice.version.version if notice.version else None
    status, refusal = 200, None
    if request.method != "POST":
        form = ActForCustomerForm(
            initial={"version": version_on_screen, "notice_sha256": notice.notice_sha256}
        )
    else:
        form = ActForCustomerForm(request.POST)
        if not form.is_valid():
            status = 400
        else:
            data = form.cleaned_data
            try:
                recorded = act_for_customer(
                    customer=customer,
                    staff=request.user,
                    action=action,
                    purpose_code=purpose_code,
                    version=data["version"],
                    notice_sha256=data["notice_sha256"],
                    channel=data["channel"],
                    identity_checked=data["identity_checked"],
                    note=data["note"],
                    at=now,
                )
            except ChoiceError as error:
                status, refusal = 409, staff_refusal(error)
            else:
                if getattr(recorded, "unchanged", False):
                    messages.info(
                        request, gettext("Er is niets vastgelegd: dit stond al zo bij de klant.")
                    )
                    return HttpResponseRedirect(
                        reverse("admin:consent_customer_change", args=[customer.customer_number])
                    )
                messages.success(
                    request,
                    gettext(
                        "Vastgelegd namens klant %(number)s. De klant ziet het in de"
                        " geschiedenis als ‘%(how)s’."
                    )
                    % {"number": customer.customer_number, "how": done_by_staff(data["channel"])},
                )
                return HttpResponseRedirect(
                    reverse("admin:consent_customer_change", args=[customer.customer_number])
                )
        # Whatever was refused, the form carries the text on screen now.
        form = ActForCustomerForm(
            {
                **request.POST.dict(),
                "version": version_on_screen or "",
                "notice_sha256": notice.notice_sha256,
            }
        )
        form.is_valid()
    context = {
        "title": ACTION_TITLES[action],
        "opts": Customer._meta,
        "original": customer,
        "customer": customer,
        "action": action,
        "purpose_code": purpose_code,
        "notice": notice,
        "form": form,
        "refusal": refusal,
        "channels": STAFF_CHANNELS,
        # What the customer will read in their history, as the history itself says it.
        "seen_as": [done_by_staff(channel) for channel in STAFF_CHANNELS],
    }
    return staff_page(request, "admin/consent/customer/act.html", context, status=status)


def staff_refusal(error: ChoiceError) -> str:
    """Why a choice was refused, in words for staff (the domain words them for customers)."""
    if isinstance(error, TooYoung):
        return gettext(
            "De klant is jonger dan 16 en kan hier geen toestemming voor geven, ook niet via"
            " een medewerker. Dat kan vanaf %(date)s."
        ) % {"date": date_format(error.from_date, "j F Y")}
    if isinstance(error, ObjectionStands):
        return gettext(
            "De klant heeft bezwaar gemaakt tegen direct marketing. Hef het bezwaar alleen op"
            " als de klant daar zelf om vraagt (‘Bezwaar opheffen’); daarna kunt u dit"
            " aanzetten."
        )
    if isinstance(error, StaleNotice):
        return gettext(
            "De tekst is intussen veranderd. Lees de klant de nieuwe tekst hieronder voor en"
            " leg de keuze opnieuw vast."
        )
    return str(error)
