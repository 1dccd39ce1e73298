"""Logging in, for customers and staff, against strangers.

- django-axes locks a (username, client address) pair after AXES_FAILURE_LIMIT failures,
  so failures from elsewhere never lock the real customer out.
- On top, one address may fail LOGIN_ADDRESS_FAILURE_LIMIT times across all usernames
  within the cool-off: spraying guesses over sequential customer numbers is throttled.
- A username no account can have (too long) is an ordinary failed login, not a 500.
"""

import datetime as dt
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext

from config.clientip import request_client
from config.logging import masked_path


class NoImpossibleUsernames(AuthenticationForm):
    """AuthenticationForm checks a username's length only after authenticating, and
    django-axes then stores it in a varchar(255): refuse it first, like a wrong password."""

    def clean_username(self):
        username = self.cleaned_data["username"]
        max_length = self.username_field.max_length
        if max_length is not None and len(username) > max_length:
            raise self.get_invalid_login_error()
        return username


class LoginForm(NoImpossibleUsernames):
    pass


class StaffLoginForm(NoImpossibleUsernames, AdminAuthenticationForm):
    pass


def failures_from(address: str, *, now) -> int:
    from axes.models import AccessAttempt

    since = now - dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    attempts = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def address_throttled(view):
    """Refuse a login POST from an address with too many recent failures, any username."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST":
            failures = failures_from(request_client(request), now=timezone.now())
            if failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
                return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
        return view(request, *args, **kwargs)

    return wrapper


def axes_username(request, credentials):
    """AXES_USERNAME_CALLABLE: never more than fits the column (defence in depth)."""
    if credentials:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return None if username is None else username[:150]


def axes_client_str(username, ip_address, user_agent, path_info, request):
    """AXES_CLIENT_STR_CALLABLE: axes logs this; customer numbers stay out of the logs."""
    path = masked_path(path_info) if isinstance(path_info, str) else None
    return f"{{ip_address: {ip_address!r}, path_info: {path!r}}}"


customer_login = address_throttled(auth_views.LoginView.as_view(authentication_form=LoginForm))


_logout = auth_views.LogoutView.as_view()


def logout(request):
    """Logging out is a POST (a form in the header). A GET — a bookmarked or typed link —
    logs nobody out and goes back to the dashboard, never to a bare 405 page."""
    if request.method == "POST":
        response = _logout(request)
        # In the new, empty session: the login page says it, for whoever looks next.
        messages.info(request, gettext("U bent uitgelogd."))
        return response
    return redirect("dashboard")
