from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/api/mfa/sms/enrolments/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/mfa/sms/", include("intelliauth_sms.api.urls")),
    # Log in/out links for DRF's browsable API.
    path("api-auth/", include("rest_framework.urls")),
]
