"""The demo app installed and its URLs in place, on top of whichever test settings run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.demo.site import with_demo_app
from tests.signin.conftest import verified_flow  # noqa: F401 - the drop-in's fixture, here too


@pytest.fixture
def demo_site(settings: Any) -> Any:
    """Install ``example_project.demo`` and serve ``example_project.urls``."""
    if with_demo_app(settings.INSTALLED_APPS) != list(settings.INSTALLED_APPS):
        settings.INSTALLED_APPS = with_demo_app(settings.INSTALLED_APPS)
    settings.ROOT_URLCONF = "example_project.urls"
    settings.LOGIN_URL = "intelliauth_sms_signin:login"
    settings.LOGIN_REDIRECT_URL = "demo:account"
    return settings


@pytest.fixture(autouse=True)
def _demo_site_for_every_test(demo_site: Any) -> None:
    """Every test in this package runs against the demo site."""
