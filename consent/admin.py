"""Staff views of consent. The current state is read-only for everyone, superusers
included, like the ledger it mirrors (`ledger.admin`).

- Privacy officers publish new versions of a purpose's texts — prefilled from the
  current text, previewed as the customer will read it next to a word-level comparison,
  and, for a material version, confirmed a second time with what it will end — and
  download the Art. 30 record; nobody edits a published text.
- The contact centre (*Klantenservice*) finds a customer by number, sees one page about
  them (`consent.staff`) and records what a customer who phones or visits a branch asks.

Each view makes one call into the domain.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from consent.choices import ChoiceError, ObjectionStands, StaleNotice, TooYoung
from consent.publishing import (
    PublishError,
    material_change_impact,
    publish_version,
    retention_texts,
)
from infra.languages import in_language
from ledger.admin import NoChanges, ReadOnlyAdmin
from ledger.models import Action, Channel

from .catalogue import GENERATED_TEXT_FIELDS, VERSION_FIELDS
from .dashboard import get_event_for_customer
from .models import ConsentState, Customer, Purpose, PurposeVersion
from .receipts import receipt_download
from .records import processing_record, processing_record_csv
from .staff import PERMISSION, STAFF_CHANNELS, act_for_customer, customer_file, notice_for
from .textdiff import changed, word_diff

# The header of every admin page: the bank's name, not "Django-beheer".
admin.site.site_header = _("Voorbeeldbank · medewerkers")
admin.site.site_title = _("Voorbeeldbank")
admin.site.index_title = _("Werkplek")
# No second menu on the left: the review queue and the privacy overview need the width to
# show every column on a 1280 px screen, and the front page lists the same links.
admin.site.enable_nav_sidebar = False


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ("customer", "purpose", "state", "version", "changed_at")
    list_filter = ("purpose", "state")
    search_fields = ("=customer__customer_number",)
    search_help_text = _("Zoek op klantnummer.")
    list_select_related = ("customer", "purpose", "purpose_version")
    show_full_result_count = False

    @admin.display(description=_("versie"))
    def version(self, state):
        return state.purpose_version.version if state.purpose_version else "—"


class VersionInline(NoChanges, admin.TabularInline):
    model = PurposeVersion
    fields = ("version", "material", "published_at", "published_by", "title_nl", "title_en")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


def _newest(field: str):
    """The newest version's `field`, as a subquery per purpose (texts that are to take
    effect later included: the officer works on the newest)."""
    return Subquery(
        PurposeVersion.objects.filter(purpose=OuterRef("pk")).order_by("-version").values(field)[:1]
    )


def _with_newest_titles(purposes):
    """Purposes with `_title_nl` and `_title_en`: their newest version's title, which
    `in_language(purpose, "_title")` reads."""
    return purposes.annotate(_title_nl=_newest("title_nl"), _title_en=_newest("title_en"))


@admin.register(Purpose)
class PurposeAdmin(ReadOnlyAdmin):
    list_display = ("title", "code", "legal_basis", "kind", "marketing", "newest_version")
    list_display_links = ("title", "code")
    inlines = [VersionInline]

    def get_queryset(self, request):
        return _with_newest_titles(super().get_queryset(request)).annotate(
            _newest_version=_newest("version")
        )

    @admin.display(description=_("titel"))
    def title(self, purpose):
        return in_language(purpose, "_title")

    # A plain word, not Django's red cross: an optional purpose is not an error.
    @admin.display(description=_("soort"), ordering="required")
    def kind(self, purpose):
        return _("nodig voor de rekening") if purpose.required else _("keuze van de klant")

    @admin.display(description=_("direct marketing"), ordering="direct_marketing")
    def marketing(self, purpose):
        return _("ja") if purpose.direct_marketing else _("nee")

    @admin.display(description=_("nieuwste versie"))
    def newest_version(self, purpose):
        return purpose._newest_version or "—"

    def get_urls(self):
        urls = [
            path(
                "record-of-processing.<str:fmt>",
                self.admin_site.admin_view(self.processing_record_view),
                name="consent_processing_record",
            ),
        ]
        return urls + super().get_urls()

    def processing_record_view(self, request, fmt):
        """GDPR Art. 30: the record of processing activities, as CSV or JSON."""
        if not request.user.has_perm("consent.view_privacy_overview"):
            raise PermissionDenied
        if fmt == "csv":
            response = HttpResponse(processing_record_csv(), content_type="text/csv; charset=utf-8")
        elif fmt == "json":
            body = json.dumps({"processing_activities": processing_record()}, indent=2)
            response = HttpResponse(body, content_type="application/json")
        else:
            raise PermissionDenied
        response["Content-Disposition"] = f'attachment; filename="record-of-processing.{fmt}"'
        return response


# --- Publishing a version ---------------------------------------------------------------------
class PurposeByTitle(forms.ModelChoiceField):
    """Purposes by their title, as staff know them, with the code for certainty (from a
    queryset annotated with the newest titles)."""

    def label_from_instance(self, obj) -> str:
        return f"{in_language(obj, '_title')} ({obj.code})"


class PublishVersionForm(forms.ModelForm):
    takes_effect_at = forms.DateTimeField(
        label=_("Geldt vanaf"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_(
            "Leeg: direct bij publiceren. Mag in de toekomst liggen; tot dan lezen klanten de"
            " huidige tekst, en een materiële wijziging beëindigt toestemmingen pas vanaf dat"
            " moment."
        ),
    )

    class Meta:
        model = PurposeVersion
        fields = ("purpose", "material", *VERSION_FIELDS)
        field_classes = {"purpose": PurposeByTitle}
        help_texts = {
            "material": _(
                "Materieel: de klant moet opnieuw kiezen. Alle eerdere toestemmingen voor dit "
                "doel tellen niet meer zodra de versie geldt, en open aanbiedingen die erop "
                "steunden worden ingetrokken."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        purpose_field = self.fields["purpose"]
        assert isinstance(purpose_field, PurposeByTitle)  # Meta.field_classes
        purpose_field.queryset = _with_newest_titles(Purpose.objects.all())
        # Retention is stated once, as rules; its sentences are made from them (issue #14).
        for name in GENERATED_TEXT_FIELDS:
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].required = False
                self.fields[name].help_text = _(
                    "Wordt gemaakt uit de bewaarregels van de huidige versie; die gelden ook"
                    " voor de nieuwe."
                )

    def clean_takes_effect_at(self):
        moment = self.cleaned_data.get("takes_effect_at")
        if moment is not None and moment < timezone.now():
            raise forms.ValidationError(_("Kies een moment in de toekomst, of laat het leeg."))
        return moment


@admin.register(PurposeVersion)
class PurposeVersionAdmin(admin.ModelAdmin):
    """Publishing only: a version is added once and never changed or deleted.

    Adding is a short walk, all in POSTs of the same form: the form (prefilled from the
    newest text) → a preview in both languages next to a word-level comparison → for a
    material version, a second confirmation that says how many valid consents end and
    how many open offers are retracted → published. Nothing is saved before the end.
    """

    form = PublishVersionForm
    list_display = ("purpose", "version", "material", "published_at", "published_by", "title_nl")
    list_filter = ("purpose", "material")
    list_select_related = ("purpose", "published_by")
    readonly_fields = ("version", "published_at", "published_by")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("purpose", "material", "takes_effect_at", *VERSION_FIELDS)
        return ("purpose", "version", "material", "published_at", "published_by", *VERSION_FIELDS)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        """Start from the newest texts of the purpose named in ?purpose=<id>."""
        initial = super().get_changeform_initial_data(request)
        purpose_id = initial.get("purpose")  # a string from the query, or nothing
        latest = (
            PurposeVersion.objects.filter(purpose_id=purpose_id).order_by("-version").first()
            if isinstance(purpose_id, str)
            else None
        )
        if latest:
            initial.update({name: getattr(latest, name) for name in VERSION_FIELDS})
        return initial

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            if not request.GET.get("purpose", "").isdigit():
                return self._choose_purpose(request)
            extra = {"title": _("Nieuwe tekstversie"), **(extra_context or {})}
            return super().add_view(request, form_url, extra)
        form = self.get_form(request, None, change=False)(request.POST)
        if not form.is_valid() or "_edit" in request.POST:
            return self._form_page(request, form)
        material = form.cleaned_data["material"]
        if "_publish" in request.POST:
            if material and request.POST.get("confirmed") != "yes":
                return self._confirm_material(request, form)
            return self._publish(request, form)
        return self._preview(request, form)

    def save_model(self, request, obj, form, change):
        # Never reached: add_view handles every POST, and nothing can be changed.
        raise PermissionDenied

    def _choose_purpose(self, request):
        purposes = _with_newest_titles(Purpose.objects.all())
        context = {
            **self.admin_site.each_context(request),
            "title": _("Nieuwe tekstversie: kies het doel"),
            "opts": self.model._meta,
            "purposes": [(p, in_language(p, "_title")) for p in purposes],
        }
        return TemplateResponse(
            request, "admin/consent/purposeversion/choose_purpose.html", context
        )

    def _form_page(self, request, form):
        """The form again, with what was typed (and its errors)."""
        fieldsets = self.get_fieldsets(request, None)
        # django-stubs: AdminForm takes fieldsets as plain dicts, get_fieldsets gives them as
        # its TypedDict (the same objects at run time; Django's own views pass them so).
        admin_form = helpers.AdminForm(form, list(fieldsets), {}, (), model_admin=self)  # type: ignore[arg-type]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Nieuwe tekstversie"),
            "subtitle": None,
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
        }
        return self.render_change_form(request, context, add=True, change=False, obj=None)

    def _walk_context(self, request, form, *, title):
        purpose = form.cleaned_data["purpose"]
        current = purpose.versions.order_by("-version").first()
        draft = form.save(commit=False)
        draft.version = (current.version if current else 0) + 1
        # As it will be published: the current rules, and the sentences made from them.
        rules = current.retention_rules if current is not None else []
        for attribute, value in retention_texts(purpose, rules=rules).items():
            setattr(draft, attribute, value)
        languages = []
        for language, name in (("nl", _("Nederlands")), ("en", _("Engels"))):
            new_text = draft.notice_text(language)
            diff = word_diff(current.notice_text(language) if current else "", new_text)
            languages.append(
                {
                    "code": language,
                    "name": name,
                    "title": draft.text("title", language),
                    "description": draft.text("description", language),
                    "data_used": draft.text("data_used", language),
                    "retention": draft.text("retention", language),
                    "recipients": draft.text("recipients", language),
                    "controller": draft.text("controller", language),
                    "dpo_contact": draft.text("dpo_contact", language),
                    "notice": new_text,
                    "diff": diff,
                    "changed": changed(diff),
                }
            )
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "purpose": purpose,
            "draft": draft,
            "current": current,
            "languages": languages,
            "takes_effect_at": form.cleaned_data.get("takes_effect_at"),
        }

    def _preview(self, request, form):
        context = self._walk_context(request, form, title=_("Voorbeeld van de nieuwe tekst"))
        return TemplateResponse(request, "admin/consent/purposeversion/preview.html", context)

    def _confirm_material(self, request, form):
        purpose = form.cleaned_data["purpose"]
        impact = material_change_impact(purpose_code=purpose.code, at=timezone.now())
        context = {
            **self._walk_context(request, form, title=_("Materiële wijziging bevestigen")),
            "consents_ending": impact.valid_consents,
            "effects": impact.effects.sentences(zeros=True),
        }
        return TemplateResponse(
            request, "admin/consent/purposeversion/confirm_material.html", context
        )

    def _publish(self, request, form):
        data = form.cleaned_data
        now = timezone.now()
        try:
            published = publish_version(
                purpose_code=data["purpose"].code,
                material=data["material"],
                texts={name: data[name] for name in VERSION_FIELDS},
                actor=request.user,
                at=data.get("takes_effect_at") or now,
                now=now,
            )
        except PublishError as error:
            form.add_error(None, str(error))
            return self._form_page(request, form)
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
        self.message_user(request, " ".join(sentences), level)
        return HttpResponseRedirect(
            reverse("admin:consent_purpose_change", args=[version.purpose_id])
        )


# --- The contact centre: one customer, by number ----------------------------------------------
class CustomerChangeList(ChangeList):
    def url_for_result(self, result):
        # Customers are found and linked by their number, never by an internal id.
        return reverse("admin:consent_customer_change", args=[result.customer_number])


class ActForCustomerForm(forms.Form):
    """What a staff member fills in when a customer asks them to record a choice."""

    channel = forms.ChoiceField(
        label=_("Hoe vraagt de klant het?"),
        choices=[(Channel.PHONE, _("telefonisch")), (Channel.BRANCH, _("op een kantoor"))],
        widget=forms.RadioSelect,
    )
    identity_checked = forms.BooleanField(
        label=_("Ik heb de identiteit van de klant gecontroleerd."),
    )
    note = forms.CharField(
        label=_("Notitie: wat vroeg de klant?"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    # What was on the staff member's screen: the choice is bound to that text.
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    notice_sha256 = forms.CharField(required=False, widget=forms.HiddenInput)


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


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    """The contact centre's customer view: search by number, then one page (read-only),
    from which a *Klantenservice* employee records what the customer asks. No bulk
    actions: staff record one choice at a time, exactly what the customer asked."""

    list_display = ("customer_number", "first_name", "last_name")
    search_fields = ("=customer_number",)
    search_help_text = _("Zoek op klantnummer.")
    actions = None
    show_full_result_count = False

    def get_changelist(self, request, **kwargs):
        return CustomerChangeList

    def get_search_results(self, request, queryset, search_term):
        # Nothing until a number is given: staff look a customer up, they do not browse.
        number = search_term.strip()
        if not number:
            return queryset.none(), False
        return queryset.filter(customer_number=number), False

    def changelist_view(self, request, extra_context=None):
        number = request.GET.get("q", "").strip()
        if number and self.has_view_permission(request):
            found = Customer.objects.filter(customer_number=number).first()
            if found is not None:
                return HttpResponseRedirect(
                    reverse("admin:consent_customer_change", args=[found.customer_number])
                )
        return super().changelist_view(request, extra_context)

    def get_object(self, request, object_id, from_field=None):
        return self.get_queryset(request).filter(customer_number=object_id).first()

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<str:number>/act/<str:action>/",
                view(self.act_view),
                name="consent_customer_act",
            ),
            path(
                "<str:number>/receipt/<int:event_id>.json",
                view(self.receipt_view),
                name="consent_customer_receipt",
            ),
            *super().get_urls(),
        ]

    def _customer(self, request, number):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(Customer, customer_number=number)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self._customer(request, object_id)
        page = customer_file(customer=customer, at=timezone.now(), language=get_language())
        context = {
            **self.admin_site.each_context(request),
            "title": _("Klant %(number)s") % {"number": customer.customer_number},
            "opts": self.model._meta,
            "original": customer,
            "file": page,
            "may_act": request.user.has_perm(PERMISSION),
        }
        return TemplateResponse(request, "admin/consent/customer/customer_file.html", context)

    def history_view(self, request, object_id, extra_context=None):
        raise Http404  # the page itself shows the history, from the ledger

    def receipt_view(self, request, number, event_id):
        """The consent receipt of one of the customer's events, as they can download it."""
        customer = self._customer(request, number)
        return receipt_download(request, get_event_for_customer(customer, event_id))

    def act_view(self, request, number, action):
        """Record what the customer asks: the text to read out, channel, identity check
        and a note; one purpose (or stop all, or lift the objection) at a time."""
        customer = self._customer(request, number)
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
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
        status, refusal = 200, None
        if request.method == "POST":
            form = ActForCustomerForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    act_for_customer(
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
                    self.message_user(
                        request,
                        gettext(
                            "Vastgelegd namens klant %(number)s. De klant ziet het in de"
                            " geschiedenis, met uw naam als medewerker."
                        )
                        % {"number": customer.customer_number},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:consent_customer_change", args=[customer.customer_number])
                    )
            else:
                status = 400
            # Whatever was refused, the form carries the text on screen now.
            form = ActForCustomerForm(
                {
                    **request.POST.dict(),
                    "version": notice.version.version if notice.version else "",
                    "notice_sha256": notice.notice_sha256,
                }
            )
            form.is_valid()
        else:
            form = ActForCustomerForm(
                initial={
                    "version": notice.version.version if notice.version else None,
                    "notice_sha256": notice.notice_sha256,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": ACTION_TITLES[action],
            "opts": self.model._meta,
            "original": customer,
            "customer": customer,
            "action": action,
            "purpose_code": purpose_code,
            "notice": notice,
            "form": form,
            "refusal": refusal,
            "channels": STAFF_CHANNELS,
        }
        return TemplateResponse(request, "admin/consent/customer/act.html", context, status=status)
