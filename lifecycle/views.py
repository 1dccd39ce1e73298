"""The erasure page (GDPR Art. 17). One call into the domain per request."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from consent.decorators import customer_page
from infra.sessions import logged_in_recently
from ledger.models import Channel

from .erasure import erasure_preview, request_erasure
from .forms import ErasureForm


@customer_page("GET", "HEAD", "POST")
def erasure(request):
    """GET: what erasing would remove and what must stay (the confirmation step), with the
    password field unless the login was recent. POST: erase now; the request is in the
    ledger, with a receipt. A wrong or missing password erases nothing; when there is
    nothing to erase (e.g. right after an erasure), the page says so and when the last
    erasure was, offers no button, and a POST records nothing."""
    now = timezone.now()
    preview = erasure_preview(request.customer, language=request.LANGUAGE_CODE, at=now)
    form = ErasureForm(
        request.POST if request.method == "POST" and not preview.nothing_to_erase else None,
        request=request,
        ask_password=not logged_in_recently(request.session, at=now),
    )
    if preview.nothing_to_erase or not form.is_valid():
        return render(request, "lifecycle/erasure.html", {"preview": preview, "form": form})
    erased = request_erasure(
        customer=request.customer,
        channel=Channel.WEB,
        actor=request.user,
        at=now,
        language=request.LANGUAGE_CODE,
    )
    erased_what = erased.effects.sentences() or [_("niets")]
    message = _(
        "Verwijderd: %(what)s. Uw verzoek staat in uw geschiedenis; hieronder is het bewijs."
    ) % {"what": get_text_list(erased_what, _("en"))}
    messages.success(request, message)
    return redirect("receipt_page", event_id=erased.event.pk)
