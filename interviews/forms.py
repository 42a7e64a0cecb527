"""Forms for the interview session endpoints: they parse, the services decide."""

from django import forms

STEP_CHOICES = [(n, str(n)) for n in range(1, 7)]


class AnswerSaveForm(forms.Form):
    # strip=False: leading and trailing white space is part of what the candidate typed.
    text = forms.CharField(required=False, strip=False)
    diagram = forms.CharField(required=False, strip=False)
    base_version = forms.IntegerField(min_value=0)
    active_step = forms.TypedChoiceField(choices=STEP_CHOICES, coerce=int, required=False,
                                         empty_value=None)


class FocusForm(forms.Form):
    step = forms.TypedChoiceField(choices=STEP_CHOICES, coerce=int, required=False,
                                  empty_value=None)


class QuestionForm(forms.Form):
    question = forms.IntegerField(required=False, min_value=1)
    text = forms.CharField(required=False, max_length=500)

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("question") and not (data.get("text") or "").strip():
            raise forms.ValidationError("Pick a question or type your own.")
        return data
