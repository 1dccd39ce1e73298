"""The staff's forms for consent (`consent.staff_views`): publishing a new version of a
purpose's texts, and recording what a customer asked a staff member for."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from infra.languages import in_language
from ledger.models import Channel

from .catalogue import GENERATED_TEXT_FIELDS, VERSION_FIELDS
from .models import Purpose, PurposeVersion
from .publishing import REQUIRED_NOT_MATERIAL, with_newest_titles


class PurposeByTitle(forms.ModelChoiceField):
    """Purposes by their title, as staff know them (from a queryset annotated with the
    newest titles)."""

    def label_from_instance(self, obj) -> str:
        return in_language(obj, "_title")


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
        fields = ("purpose", "material", "takes_effect_at", *VERSION_FIELDS)
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
        purpose_field.queryset = with_newest_titles(Purpose.objects.all())
        if "material" in self.fields and self.required_purpose():
            # Nothing to end: the form does not offer it (and clean() refuses it).
            self.fields["material"].widget = forms.HiddenInput()
        # Retention is stated once, as rules; its sentences are made from them.
        for name in GENERATED_TEXT_FIELDS:
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].required = False
                self.fields[name].help_text = _(
                    "Wordt gemaakt uit de bewaarregels van de huidige versie; die gelden ook"
                    " voor de nieuwe."
                )

    def required_purpose(self) -> bool:
        """Whether the purpose chosen (posted, or prefilled) is a required one."""
        chosen = self.data.get("purpose") if self.is_bound else self.initial.get("purpose")
        chosen = str(getattr(chosen, "pk", chosen) or "")
        return chosen.isdigit() and Purpose.objects.filter(pk=chosen, required=True).exists()

    def clean(self):
        cleaned = super().clean() or {}
        purpose = cleaned.get("purpose")
        if purpose is not None and purpose.required and cleaned.get("material"):
            self.add_error("material", REQUIRED_NOT_MATERIAL)
        return cleaned

    def clean_takes_effect_at(self):
        moment = self.cleaned_data.get("takes_effect_at")
        if moment is not None and moment < timezone.now():
            raise forms.ValidationError(_("Kies een moment in de toekomst, of laat het leeg."))
        return moment


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
