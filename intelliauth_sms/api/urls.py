"""Include with ``path("api/mfa/sms/", include("intelliauth_sms.api.urls"))``."""

from __future__ import annotations

from django.urls import path, re_path

from intelliauth_sms.api import recovery, views, webhooks

app_name = "intelliauth_sms"

urlpatterns = [
    path("enrolments/", views.EnrolmentCreateView.as_view(), name="enrolment-create"),
    path(
        "enrolments/<str:enrolment_id>/resend/",
        views.EnrolmentResendView.as_view(),
        name="enrolment-resend",
    ),
    path(
        "enrolments/<str:enrolment_id>/complete/",
        views.EnrolmentCompleteView.as_view(),
        name="enrolment-complete",
    ),
    path("factors/", views.FactorListView.as_view(), name="factor-list"),
    path("factors/<str:factor_id>/", views.FactorDetailView.as_view(), name="factor-detail"),
    path("factors/<str:factor_id>/reveal/", views.FactorRevealView.as_view(), name="factor-reveal"),
    path(
        "flows/<str:flow_id>/sms/initiate/",
        views.FlowInitiateView.as_view(),
        name="flow-sms-initiate",
    ),
    path(
        "flows/<str:flow_id>/sms/complete/",
        views.FlowCompleteView.as_view(),
        name="flow-sms-complete",
    ),
    path("reauthentication/", views.ReauthenticationView.as_view(), name="reauthentication"),
    path(
        "security-questions/",
        recovery.SecurityQuestionsView.as_view(),
        name="security-questions",
    ),
    path("security-answers/", recovery.SecurityAnswersView.as_view(), name="security-answers"),
    path("recovery/", recovery.RecoveryStartView.as_view(), name="recovery-start"),
    path(
        "recovery/<str:recovery_id>/complete/",
        recovery.RecoveryCompleteView.as_view(),
        name="recovery-complete",
    ),
    # Providers' delivery reports, authenticated by their signatures (api/webhooks.py).
    path(
        "webhooks/twilio/status/",
        webhooks.TwilioStatusView.as_view(),
        name="webhook-twilio-status",
    ),
    path(
        "webhooks/vonage/status/",
        webhooks.VonageStatusView.as_view(),
        name="webhook-vonage-status",
    ),
    # Last: unknown paths (empty ids, extra segments, a missing trailing slash) answer
    # the contract's JSON ``not_found`` instead of the site's HTML 404 or a redirect.
    re_path(r"^.*$", views.UnknownPathView.as_view(), name="unknown-path"),
]

# Formatting help for phone fields (country + national format -> E.164). Registered ahead
# of the catch-all ``unknown-path`` pattern, which must stay last.
from intelliauth_sms.api import normalise  # noqa: E402

urlpatterns.insert(
    next(
        (i for i, p in enumerate(urlpatterns) if getattr(p, "name", None) == "unknown-path"),
        len(urlpatterns),
    ),
    path(
        "phone-numbers/normalise/",
        normalise.PhoneNumberNormaliseView.as_view(),
        name="phone-number-normalise",
    ),
)
