from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from interviews import views as interview_views
from interviews.scorecards.urls import legacy_urls as legacy_scorecard_urls
from mlsd_site import views
from mlsd_site.forms import LoginForm
from mlsd_site.ratelimit import posted, rate_limited

admin.site.site_header = "mlsd-mock administration"
admin.site.site_title = "mlsd-mock admin"

urlpatterns = [
    path("", interview_views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/verify/", views.verify_resend, name="verify_resend"),
    path("accounts/verify/<str:token>/", views.verify_email, name="verify_email"),
    path("accounts/login/",
         rate_limited("login", who=posted("username"))(auth_views.LoginView.as_view(
             authentication_form=LoginForm, redirect_authenticated_user=True)),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/tokens/", views.api_tokens, name="api_tokens"),
    path("accounts/tokens/<int:token_id>/revoke/", views.api_token_revoke,
         name="api_token_revoke"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("interviews.urls")),
    path("scorecards/", include("interviews.scorecards.urls")),
    path("live/", include("interviews.live.urls")),
    path("schedule/", include("interviews.scheduling.urls")),
    *legacy_scorecard_urls,
    path("", include("grading.urls")),
    path("api/", include("grading.api.urls")),
]
