"""The customer's "Gekoppelde apps" page (`/apps/`): the apps they let act for them through
the API, since when, last used, what each may do, and taking the access back
(`api.linked_apps`). Like consent's pages (`consent.decorators`): only the logged-in
customer's rows, never cached; another customer's link is a 404.

Revoking asks first, without JavaScript too: the button opens the question (a page, or
with htmx the app's card in place), and only its POST revokes."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from consent.decorators import customer_page

from .linked_apps import AlreadyRevoked, get_link_for_customer, linked_apps, revoke_app

TEMPLATE = "api/linked_apps.html"


@customer_page()
def apps_page(request):
    apps = linked_apps(request.customer, at=timezone.now())
    return render(request, TEMPLATE, {"apps": apps})


@customer_page("GET", "HEAD", "POST")
def revoke(request, link_id):
    """GET: the question, for this app (the page, or its card for htmx). POST: revoke."""
    link = get_link_for_customer(request.customer, link_id)
    if request.method != "POST":
        if link.revoked_at is not None:
            return _already_revoked(request, link)
        if request.htmx:
            return render(request, "api/confirm.html", {"link": link})
        context = {"apps": linked_apps(request.customer, at=timezone.now()), "confirming": link}
        return render(request, TEMPLATE, context)
    try:
        revoked = revoke_app(customer=request.customer, link_id=link.pk, at=timezone.now())
    except AlreadyRevoked as already:
        return _already_revoked(request, already.link, status=409)
    message = _(
        "‘%(name)s’ heeft geen toegang meer: de app kan niets meer namens u lezen of kiezen."
        " Dit staat nu ook in uw geschiedenis."
    ) % {"name": revoked.application.name}
    if not request.htmx:
        messages.success(request, message)
        return redirect("linked_apps")
    html = render_to_string(
        "api/revoked.html", {"link": revoked, "message": message}, request
    ) + render_to_string("announcement.html", {"announcement": message})
    return HttpResponse(html)


def _already_revoked(request, link, *, status=200):
    """A second tab or a second click: nothing changes, and the page says why."""
    message = _(
        "‘%(name)s’ had al geen toegang meer (ingetrokken op %(date)s). Er is niets veranderd."
    ) % {
        "name": link.application.name,
        "date": formats.date_format(timezone.localtime(link.revoked_at), "j F Y, H:i"),
    }
    if request.htmx:
        # htmx does not swap an error: the page reloads, with the apps as they are now.
        messages.warning(request, message)
        response = HttpResponse(status=status)
        response["HX-Refresh"] = "true"
        return response
    context = {"apps": linked_apps(request.customer, at=timezone.now()), "refusal": message}
    return render(request, TEMPLATE, context, status=status)
