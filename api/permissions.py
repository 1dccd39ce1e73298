"""Who may call what. Each view names its scopes (`required_scopes`) and its kind of
client; nothing is allowed by default."""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import TokenHasScope
from oauth2_provider.models import AbstractApplication
from rest_framework.permissions import BasePermission

from access.models import DataUser
from consent.models import Customer

from .oauth import is_data_user


def _scope_message(view):
    return _("Dit token mag dit niet; nodig: %(scopes)s") % {
        "scopes": " ".join(view.required_scopes)
    }


class NoAccess(BasePermission):
    """The default: a view that forgot to say who may call it answers to nobody."""

    def has_permission(self, request, view):
        return False


class CustomerToken(TokenHasScope):
    """A token the customer gave the bank's app (authorization code), with the view's
    scopes. Sets `request.customer`: every customer view reads only that customer's rows."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            self.message = _scope_message(view)
            return False
        self.message = _("Dit token hoort niet bij een klant.")
        token = request.auth
        grant = token.application.authorization_grant_type
        if grant != AbstractApplication.GRANT_AUTHORIZATION_CODE:
            return False
        try:
            request.customer = token.user.customer
        except (AttributeError, Customer.DoesNotExist):
            return False
        return True


class AnyClientToken(BasePermission):
    """Any valid token of a registered client, customer's or system's: for what is
    public to every client (the purposes list)."""

    def has_permission(self, request, view):
        return getattr(request.auth, "application_id", None) is not None


def sees_feed(application) -> bool:
    """Whether this client may follow the feed: one of the bank's systems (client
    credentials). The feed, its snapshots and its webhooks (`api.webhooks`) all ask this;
    such a client sees every row."""
    return application.authorization_grant_type == (
        AbstractApplication.GRANT_CLIENT_CREDENTIALS
    ) and not is_data_user(application)


class DataUserToken(TokenHasScope):
    """A token of a data user's client (client credentials, scope `psd2:ais`). Sets
    `request.data_user`: every view reads only that data user's permissions."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            self.message = _scope_message(view)
            return False
        self.message = _("Dit token hoort niet bij een geregistreerde andere partij.")
        token = request.auth
        if token.user_id is not None:
            return False
        request.data_user = DataUser.objects.filter(application_id=token.application_id).first()
        return request.data_user is not None


class FeedClientToken(TokenHasScope):
    """A token of one of the bank's systems (client credentials, with the view's scope:
    `consent:feed` or `consent:check`)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            self.message = _scope_message(view)
            return False
        self.message = _("Dit token hoort niet bij een systeem van de bank.")
        token = request.auth
        return token.user_id is None and sees_feed(token.application)
