"""Calling interested customers (*Klantenservice*): a follow-up's page, where a
contact-centre employee takes it (or gives it to a colleague), records a call and
closes it with an outcome. Each step is one `transitions.change_follow_up`, which keeps
its `OfferEvent`. The list is `FollowUpAdmin`'s; this page answers its change URL.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from consent.channels import channel_counts
from infra.staffsite import staff_page, staff_view
from offers import transitions
from offers.forms import FollowUpForm
from offers.models import FollowUp, FollowUpStatus
from offers.staff import history

WORK = "offers.change_followup"


@staff_view
@permission_required("offers.view_followup", raise_exception=True)
def follow_up(request, follow_up_id):
    follow_up = get_object_or_404(
        FollowUp.objects.select_related("offer__customer", "offer__product", "owner"),
        pk=follow_up_id,
    )
    customer = follow_up.offer.customer
    status = 200
    may_call = channel_counts(customer=customer, channel="phone", at=timezone.now())
    if not may_call and follow_up.status != FollowUpStatus.CLOSED:
        # Checked again as the call is opened: taking it or recording a call is refused
        # (`transitions.change_follow_up`); closing it stays possible.
        messages.warning(request, transitions.NO_CALLS)
    if request.method != "POST":
        form = FollowUpForm(
            initial={"status": follow_up.status, "owner": follow_up.owner or request.user}
        )
    elif not request.user.has_perm(WORK):
        raise PermissionDenied
    else:
        form = FollowUpForm(request.POST)
        if not form.is_valid():
            status = 400
        else:
            data = form.cleaned_data
            try:
                transitions.change_follow_up(
                    follow_up_id=follow_up.pk,
                    to=data["status"],
                    owner=data["owner"],
                    outcome=data["outcome"],
                    note=data["note"],
                    actor=request.user,
                    at=timezone.now(),
                )
            except transitions.TransitionError as error:
                form.add_error(None, str(error))
                status = 409
            else:
                messages.success(
                    request,
                    gettext("Terugbelverzoek van klant %(number)s bijgewerkt.")
                    % {"number": customer.customer_number},
                )
                return HttpResponseRedirect(reverse("admin:offers_followup_changelist"))
    context = {
        "title": _("Terugbellen: klant %(number)s") % {"number": customer.customer_number},
        "opts": FollowUp._meta,
        "original": follow_up,
        "follow_up": follow_up,
        "customer": customer,
        "product_name": follow_up.offer.product.name(get_language()),
        "evidence": follow_up.offer.staff_evidence(get_language()),
        "history": history(follow_up.offer.events.all()),
        "form": form,
        "may_work": request.user.has_perm(WORK) and follow_up.status != FollowUpStatus.CLOSED,
        "may_call": may_call,
    }
    return staff_page(request, "admin/offers/followup/follow_up.html", context, status=status)
