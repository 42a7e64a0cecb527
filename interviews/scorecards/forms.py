"""Forms for the scorecard endpoints: they parse, the services decide."""

from django import forms

from interviews.forms import STEP_CHOICES
from interviews.models import Grade
from interviews.scorecards import verdict as rules
from interviews.scorecards.services import GradeInput, StepInput

GRADED_STEP_NUMBERS = range(1, 8)  # 7 is communication
LEVEL_CHOICES = [("", "not scored"), ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"),
                 ("not_reached", "not reached")]


class GradeForm(forms.Form):
    """The whole scorecard as the scorecard page posts it (autosave and submit alike)."""

    revision = forms.IntegerField(min_value=0)
    red_flags = forms.MultipleChoiceField(required=False, choices=[])
    verdict = forms.ChoiceField(required=False, choices=[])
    override_reason = forms.CharField(required=False, strip=False)
    summary = forms.CharField(required=False, strip=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["red_flags"].choices = Grade.RedFlag.choices
        self.fields["verdict"].choices = [("", "follow the suggestion"), *rules.VERDICTS]
        for number in GRADED_STEP_NUMBERS:
            self.fields[f"step-{number}-level"] = forms.ChoiceField(
                required=False, choices=LEVEL_CHOICES)
            self.fields[f"step-{number}-comment"] = forms.CharField(required=False,
                                                                    strip=False)

    def grade_input(self) -> GradeInput:
        """The cleaned data as the services take it."""
        data = self.cleaned_data
        steps = {}
        for number in GRADED_STEP_NUMBERS:
            raw = data.get(f"step-{number}-level") or ""
            level: int | str | None = None
            if raw == "not_reached":
                level = raw
            elif raw:
                level = int(raw)
            steps[number] = StepInput(level=level, comment=data.get(f"step-{number}-comment")
                                      or "")
        return GradeInput(steps=steps, red_flags=list(data.get("red_flags") or []),
                          verdict=data.get("verdict") or "",
                          override_reason=data.get("override_reason") or "",
                          summary=data.get("summary") or "")


class EvidenceForm(forms.Form):
    step = forms.TypedChoiceField(choices=STEP_CHOICES, coerce=int)
    quote = forms.CharField(max_length=4000)


class AssignForm(forms.Form):
    grader = forms.IntegerField(min_value=1)


class GradersRequiredForm(forms.Form):
    count = forms.TypedChoiceField(choices=[(n, str(n)) for n in (1, 2, 3)], coerce=int)
