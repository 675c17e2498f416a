"""The demo site's own pages: included at the site root by ``example_project.urls``."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from example_project.demo import views

app_name = "demo"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="demo:account", permanent=False), name="home"),
    path("account/", views.account_view, name="account"),
]
