"""Dutch names for what other apps show in the admin without one.

The third-party apps name their app and some models in English without gettext
(django-oauth-toolkit's "Django OAuth Toolkit" and "application", django-otp's "TOTP
device", …), and one model of ours has none. Giving them a name in their Meta would be a
migration in someone else's package (or a new one of ours for a label), so the names are
set here, once, when the apps are ready: `_meta.verbose_name` is what every admin page
reads, while migrations read the Meta as declared (`_meta.original_attrs`), which stays
as it was. Their English is in our catalogue like every other string; the Dutch of the
strings these apps do translate (field names, choices, help texts) is in
`locale_third_party/nl/`.
"""

from django.apps import apps
from django.utils.translation import gettext_lazy as _

APP_NAMES = {
    "oauth2_provider": _("API-clients en tokens"),
    "axes": _("Inlogpogingen"),
    "otp_totp": _("Authenticators van medewerkers"),
    "django_tasks_database": _("Achtergrondtaken"),
}
# (app label, model name): (singular, plural)
MODEL_NAMES = {
    ("oauth2_provider", "application"): (_("API-client"), _("API-clients")),
    ("oauth2_provider", "accesstoken"): (_("toegangstoken"), _("toegangstokens")),
    ("oauth2_provider", "refreshtoken"): (_("vernieuwingstoken"), _("vernieuwingstokens")),
    ("oauth2_provider", "grant"): (_("autorisatiecode"), _("autorisatiecodes")),
    ("oauth2_provider", "idtoken"): (_("ID-token"), _("ID-tokens")),
    ("oauth2_provider", "devicegrant"): (_("apparaatcode"), _("apparaatcodes")),
    ("otp_totp", "totpdevice"): (_("authenticator (TOTP)"), _("authenticators (TOTP)")),
    ("django_tasks_database", "dbtaskresult"): (_("taakresultaat"), _("taakresultaten")),
    ("api", "consentchange"): (_("wijziging in toestemming"), _("wijzigingen in toestemming")),
}


def name_other_apps() -> None:
    for label, name in APP_NAMES.items():
        try:
            apps.get_app_config(label).verbose_name = name
        except LookupError:
            continue
    for (label, model_name), (singular, plural) in MODEL_NAMES.items():
        try:
            opts = apps.get_model(label, model_name)._meta
        except LookupError:
            continue
        opts.verbose_name = singular
        opts.verbose_name_plural = plural


# Django names its own permissions "Can add application" in English, in the database;
# the user's and group's pages show them as the model's name and the action, in words.
ACTIONS = {
    "add": _("%(model)s toevoegen"),
    "change": _("%(model)s wijzigen"),
    "delete": _("%(model)s verwijderen"),
    "view": _("%(model)s bekijken"),
}


def permission_label(permission) -> str:
    model = permission.content_type.model_class()
    if model is None:
        return permission.name
    opts = model._meta
    action, _sep, model_name = permission.codename.partition("_")
    words = ACTIONS.get(action) if model_name == opts.model_name else None
    what = words % {"model": opts.verbose_name} if words else permission.name
    return f"{opts.app_config.verbose_name} | {what}"


class PermissionsInWords:
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if db_field.name in ("permissions", "user_permissions") and field is not None:
            field.label_from_instance = permission_label
        return field


def name_permissions(site) -> None:
    """The staff site's user and group pages, with the permissions in words."""
    from django.contrib.auth.models import Group, User

    for model in (Group, User):
        if site.is_registered(model):
            current = type(site.get_model_admin(model))
            site.unregister(model)
            site.register(model, type(current.__name__, (PermissionsInWords, current), {}))
