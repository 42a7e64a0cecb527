"""Forms for scheduling: the time zone, an availability window, booking and moving."""

from zoneinfo import available_timezones

from django import forms

from interviews.models import CaseStudy
from interviews.scheduling.models import Availability

WEEKDAYS = Availability._meta.get_field("weekday").choices


def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [("UTC", "UTC"), *[(z, z.replace("_", " ")) for z in zones]]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label="Your time zone", choices=time_zone_choices)


class AvailabilityForm(forms.Form):
    repeats = forms.ChoiceField(label="Repeats", choices=[("weekly", "Every week"),
                                                          ("once", "Once")],
                                initial="weekly", widget=forms.RadioSelect)
    weekday = forms.TypedChoiceField(label="Weekday", choices=WEEKDAYS, coerce=int,
                                     required=False)
    date = forms.DateField(label="Date", required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}))
    slot_minutes = forms.TypedChoiceField(label="Slot length", coerce=int, initial=60,
                                          choices=[(45, "45 minutes"), (60, "1 hour"),
                                                   (90, "1 hour 30")])
    case_study = forms.ModelChoiceField(label="Case study", required=False,
                                        empty_label="Any case study",
                                        queryset=CaseStudy.objects.filter(is_published=True))

    def clean(self):
        data = super().clean()
        if data.get("repeats") == "weekly" and data.get("weekday") in (None, ""):
            self.add_error("weekday", "Pick the weekday the window repeats on.")
        if data.get("repeats") == "once" and not data.get("date"):
            self.add_error("date", "Pick the date of the window.")
        return data


class BookForm(forms.Form):
    slot = forms.IntegerField(widget=forms.HiddenInput)
    case_study = forms.ModelChoiceField(label="Case study", empty_label=None,
                                        queryset=CaseStudy.objects.filter(is_published=True))


class MoveForm(forms.Form):
    slot = forms.IntegerField(widget=forms.HiddenInput)


class PeerInviteForm(forms.Form):
    first_case_study = forms.ModelChoiceField(
        label="You are interviewed on", empty_label=None,
        queryset=CaseStudy.objects.filter(is_published=True))
    second_case_study = forms.ModelChoiceField(
        label="Your partner is interviewed on", empty_label=None,
        queryset=CaseStudy.objects.filter(is_published=True))

    def clean(self):
        data = super().clean()
        if data.get("first_case_study") and data.get("first_case_study") == data.get(
                "second_case_study"):
            raise forms.ValidationError("Pick two different case studies: one for each of you.")
        return data


LEVELS = [("", "—"), (1, "1 · not yet"), (2, "2 · partly"), (3, "3 · solid"), (4, "4 · strong")]


class PeerScorecardForm(forms.Form):
    """A level and a comment per rubric step, then what went well and what to work on."""

    went_well = forms.CharField(label="What went well", required=False,
                                widget=forms.Textarea(attrs={"rows": 3}))
    work_on = forms.CharField(label="What to work on", required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = steps
        for step in steps:
            self.fields[f"level_{step.number}"] = forms.TypedChoiceField(
                label=f"{step.number}. {step.title}", choices=LEVELS, coerce=int,
                empty_value=None, required=False)
            self.fields[f"comment_{step.number}"] = forms.CharField(
                label=f"Comment on step {step.number}", required=False, max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2}))

    def step_fields(self):
        return [(step, self[f"level_{step.number}"], self[f"comment_{step.number}"])
                for step in self.steps]


class RateForm(forms.Form):
    usefulness = forms.TypedChoiceField(label="How useful was this feedback?", coerce=int,
                                        choices=[(i, str(i)) for i in range(1, 6)])
