"""Include with ``path("api/mfa/sms/", include("intelliauth_sms.api.urls"))``."""

from __future__ import annotations

from django.urls import path

from intelliauth_sms.api import views

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
]
