"""Who may open a customer's page, with which methods, and what happens otherwise.

Every view that shows or changes personal data is a `customer_page` or a
`customer_choice`: logged in as a bank customer (`request.customer` is set, and a view
only ever reads that customer's rows, so guessing another id gives a 404, never data),
never cached (shared computers), and a refused method gets the site's own 405 page.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.shortcuts import redirect, render, resolve_url
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_htmx.http import HttpResponseClientRedirect

from .languages import remember_language
from .models import Customer

# Set on a choice URL that the login sends the customer back to: the session had ended,
# so what they chose was not saved (see `customer_required`, `choice_view`).
LOGGED_OUT = "logged_out"
# Messages with this tag belong to one card (`extra_tags="card <anchor>"`): the
# dashboard shows them inside that card, where the customer's eye (and the #anchor) is.
IN_CARD = "card"
# Where the customer's language, as stored, waits from login to the first page.
LOGIN_LANGUAGE = "login_language"
# A language chosen before logging in (the switch on the login page): it wins over the
# stored one at login, and is stored (a cookie alone, maybe someone else's, does not).
CHOSEN_LANGUAGE = "chosen_language"


def customer_required(view):
    """Logged in, and a bank customer: sets `request.customer`.

    Anonymous visitors go to the login page. A POST from a session that ended is a
    choice that was not saved: the login page says so, and afterwards the customer is
    back at the same choice (the choice URL answers GET by going to its card). A staff
    member without a customer record gets a page that says so.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.method != "POST":
                return redirect_to_login(request.get_full_path())
            messages.warning(
                request,
                _(
                    "U was uitgelogd. Wat u net koos, is NIET opgeslagen. Log opnieuw in;"
                    " daarna komt u terug bij dezelfde keuze."
                ),
            )
            back = f"{request.path}?{urlencode({LOGGED_OUT: 1})}"
            if request.htmx:
                # Send the whole page to the login, not the login form into a card.
                login = resolve_url(settings.LOGIN_URL)
                return HttpResponseClientRedirect(f"{login}?{urlencode({'next': back})}")
            return redirect_to_login(back)
        try:
            request.customer = request.user.customer
        except Customer.DoesNotExist:
            return render(request, "consent/no_customer.html", status=403)
        if request.customer.closed_on is not None:
            # Left the bank: the login is disabled already; a session from before ends here.
            closed_on = request.customer.closed_on
            logout(request)
            return render(request, "consent/closed.html", {"closed_on": closed_on}, status=403)
        language = request.session.pop(LOGIN_LANGUAGE, None)
        if language is None:
            return view(request, *args, **kwargs)
        # The first page after logging in: in the language stored for the customer, and
        # the cookie keeps it from here on (the language switch still changes it).
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = view(request, *args, **kwargs)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
        return response

    return wrapper


@receiver(user_logged_in, dispatch_uid="consent.customer_language_at_login")
def _customer_language_at_login(sender, request, user, **kwargs):
    """The language stored for the customer applies from the first page after login."""
    # A login through a form (not a test's or a script's session made by hand).
    if request is None or request.method != "POST" or not hasattr(request, "session"):
        return
    chosen = request.session.pop(CHOSEN_LANGUAGE, None)
    customer = Customer.objects.filter(user=user).only("language").first()
    if customer is None:
        return
    if chosen is not None:
        remember_language(customer=customer, language=chosen)
    request.session[LOGIN_LANGUAGE] = customer.language


def allow(*methods):
    """Like `require_http_methods`, but a refused method gets the site's own 405 page."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                return method_not_allowed(request, methods)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def method_not_allowed(request, methods):
    response = render(request, "405.html", status=405)
    response["Allow"] = ", ".join(methods)
    return response


def choice_view(back):
    """A URL that records a choice: POST records it; any other method means the customer
    arrived here without choosing (logged in again after the session ended, a reload, a
    bookmark) and goes back to where the choice is made, with a message. Never a 405.

    `back(request, **kwargs)` gives (url, anchor) of the place the choice is made.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                return view(request, *args, **kwargs)
            url, anchor = back(request, **kwargs)
            if request.GET.get(LOGGED_OUT):
                text = _(
                    "U was uitgelogd, daarom is uw keuze hier NIET opgeslagen. Kies nog een"
                    " keer met de knop bij deze keuze."
                )
            else:
                text = _("Hier is niets opgeslagen. Kies met de knop bij deze keuze.")
                messages.info(request, text, extra_tags=f"{IN_CARD} {anchor}")
                return redirect(f"{url}#{anchor}")
            messages.warning(request, text, extra_tags=f"{IN_CARD} {anchor}")
            return redirect(f"{url}#{anchor}")

        return wrapper

    return decorator


def customer_page(*methods):
    """A page of the logged-in customer's own data, answering only `methods` (GET and
    HEAD if none are named)."""
    methods = methods or ("GET", "HEAD")

    def decorator(view):
        return allow(*methods)(never_cache(customer_required(view)))

    return decorator


def customer_choice(back):
    """A URL where the logged-in customer records a choice (POST; any other method goes
    `back` to where the choice is made, see `choice_view`)."""

    def decorator(view):
        return never_cache(customer_required(choice_view(back)(view)))

    return decorator


def posted_version(request) -> int | None:
    """The text version a choice form sent back (None when missing or not a number: the
    choice is then refused as made on a changed text, and nothing is written)."""
    try:
        return int(request.POST.get("version"))
    except (TypeError, ValueError):
        return None
