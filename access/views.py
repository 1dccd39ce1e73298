"""The customer's pages about third parties (`/access/…`), like consent's pages: only the
logged-in customer's own rows (another customer's permission is a 404), never cached,
forms that work without JavaScript.

- `/access/<consentId>/`: the request, in plain words (`access.texts`), with "Toegang
  geven" and "Weigeren" of equal weight; the data user's approval link.
- `/access/<consentId>/reads/`: one data user's permission: what, since, until, and every
  read; "Toegang intrekken" (POST `/access/<consentId>/withdraw/`) ends it at once.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.decorators import customer_page, posted_version
from ledger.models import Channel

from . import actions
from .gate import status_of
from .models import Permission, PermissionStatus
from .texts import TEXT_VERSION, accounts_in_scope, approval_text, unknown_ibans


def _permission(consent_id, customer, *, open_request=False) -> Permission:
    """The customer's own permission; an undecided request is anyone's to decide (the data
    user does not know who the customer is), once."""
    found = Permission.objects.select_related("data_user").filter(consent_id=consent_id).first()
    if found is None:
        raise Http404("unknown permission")
    if found.customer_id == customer.pk:
        return found
    if open_request and found.customer_id is None and found.status == PermissionStatus.RECEIVED:
        return found
    raise Http404("unknown permission")


@customer_page("GET", "HEAD", "POST")
def request_page(request, consent_id):
    customer = request.customer
    permission = _permission(consent_id, customer, open_request=True)
    now = timezone.now()
    refusal = None
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        try:
            if choice == "approve":
                permission = actions.approve(
                    permission=permission,
                    customer=customer,
                    version=posted_version(request),
                    text_sha256=request.POST.get("text_sha256", ""),
                    language=request.LANGUAGE_CODE,
                    channel=Channel.WEB,
                    actor=request.user,
                    at=now,
                )
                messages.success(
                    request,
                    _(
                        "%(name)s kan nu lezen wat u goedkeurde. U kunt de toegang altijd"
                        " intrekken op deze pagina."
                    )
                    % {"name": permission.data_user.name},
                )
                return redirect("access_reads", permission.consent_id)
            if choice == "refuse":
                actions.refuse(permission=permission, customer=customer, at=now)
                messages.success(
                    request,
                    _("U weigerde. %(name)s krijgt geen toegang.")
                    % {"name": permission.data_user.name},
                )
                # The page says so, with the way back to the data user (its redirect URI).
                return redirect("access_request", permission.consent_id)
            refusal = _("Kies ‘Toegang geven’ of ‘Weigeren’.")
        except actions.AccessError as error:
            refusal = str(error)
        except actions.ChoiceError as error:  # under 16, left the bank
            refusal = str(error)
        permission = _permission(consent_id, customer, open_request=True)
    return _request_response(request, permission, refusal=refusal, at=now)


def _request_response(request, permission, *, refusal, at):
    customer = request.customer
    context = {"permission": permission, "refusal": refusal, "status": status_of(permission, at=at)}
    if permission.status == PermissionStatus.RECEIVED and context["status"] != "expired":
        try:
            actions.check_may_decide(permission, customer=customer, at=at)
        except actions.ChoiceError as error:
            context["cannot"] = str(error)
        mine = actions.customer_accounts(customer)
        accounts = accounts_in_scope(permission, mine)
        context["unknown"] = unknown_ibans(permission, mine)
        context["accounts"] = accounts
        if accounts and not context["unknown"]:
            context["text"] = approval_text(
                permission, accounts=accounts, language=request.LANGUAGE_CODE, at=at
            )
            context["text_version"] = TEXT_VERSION
    status = 409 if refusal else 200
    return render(request, "access/request.html", context, status=status)


@customer_page()
def reads_page(request, consent_id):
    permission = _permission(consent_id, request.customer)
    reads = permission.reads.select_related("account__account").order_by("-read_at", "-pk")[:500]
    context = {
        "permission": permission,
        "accounts": permission.accounts.select_related("account").order_by("account__iban"),
        "reads": reads,
        "status": status_of(permission, at=timezone.now()),
    }
    return render(request, "access/reads.html", context)


@customer_page("POST")
def withdraw(request, consent_id):
    permission = _permission(consent_id, request.customer)
    try:
        actions.withdraw(
            permission=permission,
            customer=request.customer,
            channel=Channel.WEB,
            actor=request.user,
            at=timezone.now(),
        )
    except actions.NotOpen as error:
        messages.warning(request, str(error))
        return redirect("access_reads", permission.consent_id)
    messages.success(
        request,
        _(
            "%(name)s heeft geen toegang meer: de volgende keer dat het iets wil lezen, krijgt"
            " het niets. Dit staat nu ook in uw geschiedenis."
        )
        % {"name": permission.data_user.name},
    )
    return redirect("access_reads", permission.consent_id)
