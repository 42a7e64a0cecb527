from django import forms
from django.conf import settings

from grading.services.submissions import upload_too_large_message


class SubmissionForm(forms.Form):
    artifact = forms.FileField(
        label="Model file",
        help_text="ONNX (.onnx) or skops (.skops). Pickle and joblib files are refused unread.",
    )
    note = forms.CharField(
        label="Note (optional)", max_length=500, required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. added hashed id crosses"}))

    def clean_artifact(self):
        artifact = self.cleaned_data["artifact"]
        limit = settings.MODEL_UPLOAD_MAX_BYTES
        if artifact.size > limit:
            raise forms.ValidationError(upload_too_large_message(artifact.size, limit))
        return artifact


class DesignClaimForm(forms.Form):
    """A design claim as posted by the claim editor: parsing only (a number is a number);
    what a claim of each kind needs is checked by ``grading.services.claims``."""

    kind = forms.CharField(max_length=24)
    metric = forms.CharField(max_length=40, required=False)
    scenario = forms.CharField(max_length=40, required=False)
    comparator = forms.CharField(max_length=2, required=False)
    value = forms.FloatField(required=False, error_messages={
        "invalid": "Enter the claimed value as a number, e.g. 0.35 (a dot for decimals)."})
