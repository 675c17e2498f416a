"""The demo app installed and its URLs in place, on top of whichever test settings run."""

from __future__ import annotations

from typing import Any

import pytest

DEMO_APP = "example_project.demo"


@pytest.fixture
def demo_site(settings: Any) -> Any:
    """Install ``example_project.demo`` and serve ``example_project.urls``."""
    if DEMO_APP not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, DEMO_APP]
    settings.ROOT_URLCONF = "example_project.urls"
    settings.LOGIN_URL = "demo:login"
    settings.LOGIN_REDIRECT_URL = "demo:account"
    return settings


@pytest.fixture(autouse=True)
def _demo_site_for_every_test(demo_site: Any) -> None:
    """Every test in this package runs against the demo site."""
