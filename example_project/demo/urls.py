"""The demo site's pages: included at the site root by ``example_project.urls``."""

from __future__ import annotations

from django.contrib.auth.views import LogoutView
from django.urls import path
from django.views.generic import RedirectView

from example_project.demo import views

app_name = "demo"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="demo:account", permanent=False), name="home"),
    path("login/", views.login_view, name="login"),
    path("login/sms/<str:flow_id>/", views.sms_step_view, name="sms-step"),
    path("login/sms/<str:flow_id>/finish/", views.sms_finish_view, name="sms-finish"),
    path("account/", views.account_view, name="account"),
    path("logout/", LogoutView.as_view(next_page="demo:login"), name="logout"),
]
