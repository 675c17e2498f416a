from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/mfa/sms/", include("intelliauth_sms.api.urls")),
    path("api-auth/", include("rest_framework.urls")),
]
