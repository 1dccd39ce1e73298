"""Publishing a new version of a purpose's texts (privacy officers).

A short walk, all in POSTs of the same form, and nothing is saved before its end:

1. choose the purpose (unless the purpose's page sent `?purpose=<id>`);
2. the form, prefilled with the purpose's newest texts (the admin's own add form);
3. *Voorbeeld bekijken*: the new text as the customer will read it, in Dutch and in
   English, next to a word-level comparison with the newest version;
4. for a material version, *Publiceren…* asks a second confirmation that says how many
   valid consents end and how many open offers are retracted;
5. *Publiceren*: `publish_version`, then back to the purpose's page with what it did.

*Terug naar de tekst* (`_edit`) goes back to the form with everything typed.
"""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from consent.catalogue import VERSION_FIELDS
from consent.forms import PublishVersionForm
from consent.models import Purpose, PurposeVersion
from consent.publishing import (
    Preview,
    PublishError,
    preview_material_version,
    preview_version,
    publish_version,
    starting_texts,
    with_newest_titles,
)
from infra.languages import in_language
from infra.staffsite import staff_page, staff_view

LANGUAGES = (("nl", _("Nederlands")), ("en", _("Engels")))
# What the preview shows of the new version, in each language.
PREVIEW_TEXTS = (
    "title",
    "description",
    "data_used",
    "retention",
    "recipients",
    "controller",
    "dpo_contact",
)


@staff_view
@permission_required("consent.add_purposeversion", raise_exception=True)
def publish(request):
    if request.method != "POST":
        purpose_id = request.GET.get("purpose", "")
        if not purpose_id.isdigit():
            return _choose_purpose(request)
        # As the admin's add form: the query string prefills, the newest texts on top.
        initial = {**request.GET.dict(), **starting_texts(purpose_id=purpose_id)}
        return _form_page(request, _form_class(request)(initial=initial))
    form = _form_class(request)(request.POST)
    if not form.is_valid() or "_edit" in request.POST:
        return _form_page(request, form)
    if "_publish" not in request.POST:
        return _preview(request, form)
    if form.cleaned_data["material"] and request.POST.get("confirmed") != "yes":
        return _confirm_material(request, form)
    return _publish(request, form)


def _choose_purpose(request):
    purposes = with_newest_titles(Purpose.objects.all())
    return staff_page(
        request,
        "admin/consent/purposeversion/choose_purpose.html",
        {
            "title": _("Nieuwe tekstversie: kies het doel"),
            "opts": PurposeVersion._meta,
            "purposes": [(purpose, in_language(purpose, "_title")) for purpose in purposes],
        },
    )


def _form_class(request) -> type[forms.ModelForm]:
    """The form with the widgets the admin's own forms get (field sizes, the link to the
    chosen purpose): it is shown in the admin's add form."""
    model_admin = admin.site.get_model_admin(PurposeVersion)
    return forms.modelform_factory(
        PurposeVersion,
        form=PublishVersionForm,
        fields=PublishVersionForm.Meta.fields,
        formfield_callback=partial(model_admin.formfield_for_dbfield, request=request),
    )


def _form_page(request, form) -> HttpResponse:
    """The admin's add form for a version (`change_form.html`, whose only button is
    *Voorbeeld bekijken*), with what was typed and its errors."""
    model_admin = admin.site.get_model_admin(PurposeVersion)
    admin_form = helpers.AdminForm(
        form, [(None, {"fields": list(form.fields)})], {}, model_admin=model_admin
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Nieuwe tekstversie"),
        "subtitle": None,
        "adminform": admin_form,
        "object_id": None,
        "original": None,
        "is_popup": False,
        "to_field": None,
        "media": model_admin.media + admin_form.media,
        "inline_admin_formsets": [],
        "errors": helpers.AdminErrorList(form, []),
        "preserved_filters": model_admin.get_preserved_filters(request),
    }
    return model_admin.render_change_form(request, context, add=True)


def _preview(request, form) -> TemplateResponse:
    data = form.cleaned_data
    preview = preview_version(
        purpose=data["purpose"], material=data["material"], texts=_texts(data)
    )
    context = _walk_context(form, preview, title=_("Voorbeeld van de nieuwe tekst"))
    return staff_page(request, "admin/consent/purposeversion/preview.html", context)


def _confirm_material(request, form) -> TemplateResponse:
    data = form.cleaned_data
    preview, impact = preview_material_version(
        purpose=data["purpose"], texts=_texts(data), at=timezone.now()
    )
    context = {
        **_walk_context(form, preview, title=_("Materiële wijziging bevestigen")),
        "consents_ending": impact.valid_consents,
        "effects": impact.effects.sentences(zeros=True),
    }
    return staff_page(request, "admin/consent/purposeversion/confirm_material.html", context)


def _publish(request, form):
    data = form.cleaned_data
    now = timezone.now()
    try:
        published = publish_version(
            purpose_code=data["purpose"].code,
            material=data["material"],
            texts=_texts(data),
            actor=request.user,
            at=data.get("takes_effect_at") or now,
            now=now,
        )
    except PublishError as error:
        form.add_error(None, str(error))
        return _form_page(request, form)
    version = published.version
    sentences = [
        gettext("Versie %(version)d van ‘%(title)s’ is gepubliceerd.")
        % {"version": version.version, "title": version.text("title", get_language())}
    ]
    if published.takes_effect_later:
        sentences.append(
            gettext("Ze geldt vanaf %(moment)s.")
            % {"moment": date_format(timezone.localtime(version.published_at), "j F Y H:i")}
        )
    if version.material:
        renewals = published.consents_needing_renewal
        sentences.append(
            ngettext(
                "%(n)d toestemming moet opnieuw worden gegeven.",
                "%(n)d toestemmingen moeten opnieuw worden gegeven.",
                renewals,
            )
            % {"n": renewals}
        )
        if not published.takes_effect_later:
            sentences.extend(published.effects.sentences(zeros=True))
    level = messages.WARNING if version.material else messages.SUCCESS
    messages.add_message(request, level, " ".join(sentences))
    return HttpResponseRedirect(reverse("admin:consent_purpose_change", args=[version.purpose_id]))


def _texts(data) -> dict:
    return {name: data[name] for name in VERSION_FIELDS}


def _walk_context(form, preview: Preview, *, title) -> dict:
    """What the preview and the confirmation show: the new version in each language, as
    the customer will read it, next to its comparison with the newest version."""
    draft = preview.draft
    languages = [
        {
            "code": code,
            "name": name,
            **{text: draft.text(text, code) for text in PREVIEW_TEXTS},
            "notice": preview.notices[code].notice,
            "diff": preview.notices[code].diff,
            "changed": preview.notices[code].changed,
        }
        for code, name in LANGUAGES
    ]
    return {
        "title": title,
        "opts": PurposeVersion._meta,
        "form": form,
        "purpose": draft.purpose,
        "draft": draft,
        "current": preview.current,
        "languages": languages,
        "takes_effect_at": form.cleaned_data.get("takes_effect_at"),
    }
