"""The staff's forms for offers (`offers.staff_views`): starting a run, rejecting offers
with a reason, and working a follow-up."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .models import STAFF_OUTCOMES, FollowUpStatus
from .staff import klantenservice_staff, rule_choices


class StartRunForm(forms.Form):
    as_of = forms.DateField(
        label=_("Peildatum"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "De gegevens tot en met deze dag worden gelezen; toestemming telt zoals die"
            " geldt op het moment dat de run begint."
        ),
    )
    rules = forms.MultipleChoiceField(
        label=_("Regels"),
        choices=rule_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Geen keuze: alle regels."),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reden"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Verplicht. Wordt bij het aanbod bewaard; de klant ziet het niet."),
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=FollowUpStatus.choices)
    owner = StaffChoiceField(
        label=_("Eigenaar"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("— niemand —"),
    )
    outcome = forms.ChoiceField(
        label=_("Uitkomst"),
        choices=[
            ("", _("— (alleen bij afsluiten)")),
            *((o.value, o.label) for o in STAFF_OUTCOMES),
        ],
        required=False,
    )
    note = forms.CharField(
        label=_("Notitie"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, StaffChoiceField)  # a copy of the one declared above
        owner.queryset = klantenservice_staff()
