"""Where the demo app goes in ``INSTALLED_APPS``: shared by the demo fixtures and settings."""

from __future__ import annotations

DEMO_APP = "example_project.demo"


def with_demo_app(installed_apps: list[str]) -> list[str]:
    """``installed_apps`` with the demo just before intelliauth_sms, as the example site has it.

    Listed first, its templates override the drop-in sign-in's (its look, its login aside).
    """
    apps = [app for app in installed_apps if app != DEMO_APP]
    at = apps.index("intelliauth_sms")
    return [*apps[:at], DEMO_APP, *apps[at:]]
