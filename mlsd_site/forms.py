from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from mlsd_site.accounts import account_awaits_verification, email_is_taken


class SignupForm(UserCreationForm):
    """Sign up as a candidate; interviewers and admins are appointed by an admin. The
    address must not belong to another account (in any case): one inbox, one account."""

    email = forms.EmailField(
        max_length=254,
        help_text="We send a link to this address; your account works once you open it.")

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = get_user_model().objects.normalize_email(self.cleaned_data["email"])
        if email_is_taken(email):
            raise ValidationError(
                "An account with this e-mail address exists already: log in instead.",
                code="email_taken")
        return email


class ResendForm(forms.Form):
    email = forms.EmailField(max_length=254, label="E-mail address")


class LoginForm(AuthenticationForm):
    """Django's log-in form, except that an account whose address is not verified yet hears
    so (only with its right password, so nothing is told to a guesser) and how to get a
    new link; ``awaits_verification`` is then true for the template."""

    awaits_verification = False

    def clean(self) -> dict:
        try:
            return super().clean()
        except ValidationError as error:
            username = self.cleaned_data.get("username")
            password = self.cleaned_data.get("password")
            if (error.code == "invalid_login" and username and password
                    and account_awaits_verification(username=username, password=password)):
                self.awaits_verification = True
                raise ValidationError(
                    "Confirm your e-mail address first: open the link we sent you.",
                    code="unverified") from None
            raise


class ApiTokenForm(forms.Form):
    """A new personal access token: its name, what it may do, how long it lives."""

    name = forms.CharField(max_length=80, label="Name",
                           help_text="What the token is for, e.g. “laptop notebook”.")
    scope = forms.ChoiceField(
        label="Access", widget=forms.RadioSelect, initial="read",
        choices=[("read", "Read: case studies, training data, your submissions, leaderboards"),
                 ("submit", "Read and submit models")])
    days = forms.TypedChoiceField(label="Expires after", coerce=int, initial=90,
                                  choices=[(7, "7 days"), (30, "30 days"), (90, "90 days"),
                                           (365, "1 year")])
