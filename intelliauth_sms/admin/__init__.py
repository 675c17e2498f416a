"""The tenant admin console, in Django admin (CONTRACT §2, §6).

Roles come from ``TenantMembership`` (``access``): tenant admins edit their tenant's policy
and country rules (``policy``); support staff read the audit trail (``audit``), see factors
masked and lockouts, reveal a number and unlock a user, each with a reason (``support``),
and the SMS messages sent, with the provider's delivery status and error (``messages``).
``views`` holds the Today page and the MFA recovery runbook. Nobody sees another tenant's
data; superusers see every tenant. Phone numbers appear as their last 4 digits only,
except on the page of an audited reveal.
"""

from intelliauth_sms.admin import audit, messages, policy, support

__all__ = ["audit", "messages", "policy", "support"]
