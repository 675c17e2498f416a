"""The words the SMS step page's script writes itself, translated on the server.

The script (``static/intelliauth_sms/sms-step.js``) reads them from a JSON block of the page
(``json_script``), so the drop-in sign-in speaks the request's language without a JavaScript
catalog. ``%(name)s`` placeholders are filled in by the script.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


def sms_step_copy() -> dict[str, str]:
    """The script's strings in the active language, by the name the script uses."""
    return {
        "sending": _("Sending code…"),
        "sendingAgain": _("Sending a new code…"),
        "sent": _("We sent a code to %(phone)s."),
        "sentAgain": _("We sent a new code to %(phone)s. Only the latest code works."),
        "notSent": _("We could not send a code."),
        "checking": _("Checking…"),
        "verify": _("Verify"),
        "verified": _("Verified. Signing you in…"),
        "expired": _("This sign-in has expired."),
        "signInAgain": _("Sign in again to get a new code."),
        "oneAttemptLeft": _("1 attempt left."),
        "attemptsLeft": _("%(count)s attempts left."),
        "resendIn": _("Resend in %(wait)s"),
        "oneMinute": _("1 minute"),
        "minutes": _("%(count)s minutes"),
    }
