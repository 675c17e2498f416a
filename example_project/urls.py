from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

# The password-only login pages of the admin and of DRF's browsable API send people to the
# app's drop-in sign-in instead (keeping ``next``), so its SMS step cannot be bypassed.
to_sign_in = RedirectView.as_view(pattern_name="intelliauth_sms_signin:login", query_string=True)

urlpatterns = [
    # The drop-in sign-in: /accounts/login/, /accounts/login/sms/<flow_id>/, /accounts/logout/.
    path("accounts/", include("intelliauth_sms.urls")),
    path("admin/login/", to_sign_in),
    path("api-auth/login/", to_sign_in),
    path("admin/", admin.site.urls),
    path("api/mfa/sms/", include("intelliauth_sms.api.urls")),
    # Log in/out links for DRF's browsable API.
    path("api-auth/", include("rest_framework.urls")),
    # The demo's own pages: /account/; / -> /account/.
    path("", include("example_project.demo.urls")),
]

if apps.is_installed("drf_spectacular"):
    from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

    urlpatterns[-1:-1] = [
        # The API's OpenAPI 3 schema (YAML, or JSON with ?format=json) and Swagger UI.
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    ]
