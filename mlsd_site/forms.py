from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    """Sign up as a candidate; interviewers and admins are appointed by an admin."""

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
