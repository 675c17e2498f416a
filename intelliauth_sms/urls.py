"""The drop-in sign-in: include with ``path("accounts/", include("intelliauth_sms.urls"))``.

The SMS step page talks to the API, so the site includes ``intelliauth_sms.api.urls`` too.
"""

from __future__ import annotations

from django.urls import path

from intelliauth_sms.signin import recovery, views

app_name = "intelliauth_sms_signin"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("login/sms/<str:flow_id>/", views.sms_step_view, name="sms-step"),
    path("login/sms/<str:flow_id>/finish/", views.sms_finish_view, name="sms-finish"),
    path("recover/", recovery.recover_view, name="recover"),
    path("recover/<str:recovery_id>/", recovery.recover_code_view, name="recover-code"),
]
