from django.contrib import admin
from django.urls import include, path

from example_project.demo import views as demo_views

urlpatterns = [
    # The only way in is the demo's sign-in, with its SMS step: the admin's and DRF's
    # password-only login pages redirect there (keeping ``next``).
    path("admin/login/", demo_views.login_redirect_view),
    path("api-auth/login/", demo_views.login_redirect_view),
    path("admin/", admin.site.urls),
    path("api/mfa/sms/", include("intelliauth_sms.api.urls")),
    # Log in/out links for DRF's browsable API.
    path("api-auth/", include("rest_framework.urls")),
    # The demo pages: /login/, /login/sms/<flow_id>/, /account/, /logout/; / -> /account/.
    path("", include("example_project.demo.urls")),
]
