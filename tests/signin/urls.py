"""A site that installs the drop-in sign-in the way the README says."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("accounts/", include("intelliauth_sms.urls")),
    # The README's lines that send the admin's login through the drop-in.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="intelliauth_sms_signin:login", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/mfa/sms/", include("intelliauth_sms.api.urls")),
]
