"""Forms for the live room's endpoints: they parse, the services decide (lengths, states,
who may)."""

from django import forms

STEP_CHOICES = [(n, str(n)) for n in range(1, 7)]


def _step(required: bool = False) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(choices=STEP_CHOICES, coerce=int, required=required,
                                  empty_value=None)


class TextForm(forms.Form):
    """A question, an answer's text, a follow-up, a note: text and an optional step."""

    text = forms.CharField(max_length=2_000)
    step = _step()


class AnswerForm(forms.Form):
    question_seq = forms.IntegerField(min_value=1)
    text = forms.CharField(max_length=2_000)


class FollowUpForm(forms.Form):
    text = forms.CharField(max_length=2_000)
    step = _step(required=True)


class RequirementChangeForm(forms.Form):
    """Typed (``text``), or the guide's change number ``guide_index`` of step ``step``."""

    text = forms.CharField(max_length=2_000, required=False)
    step = _step()
    guide_index = forms.IntegerField(min_value=0, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("guide_index") is None and not (data.get("text") or "").strip():
            raise forms.ValidationError("Type the change, or pick one from the guide.")
        if data.get("guide_index") is not None and not data.get("step"):
            raise forms.ValidationError("Which step's change?")
        return data


class FollowUpAnswerForm(forms.Form):
    # strip=False: leading and trailing white space is part of what the candidate typed.
    text = forms.CharField(required=False, strip=False)
    base_version = forms.IntegerField(min_value=0)


class PresenceForm(forms.Form):
    present = forms.BooleanField(required=False)


class AssignForm(forms.Form):
    interviewer = forms.IntegerField(min_value=1)
