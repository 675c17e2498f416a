"""The app's models, one module per concern."""

from intelliauth_sms.models.audit import AuditEvent, EventType, Outcome
from intelliauth_sms.models.code import CodePurpose, CodeState, SmsCode
from intelliauth_sms.models.factor import FactorPurpose, PendingEnrolment, SmsFactor
from intelliauth_sms.models.flow import AuthFlow, FlowKind
from intelliauth_sms.models.message import MessageStatus, SmsMessage
from intelliauth_sms.models.pumping import PrefixBreaker
from intelliauth_sms.models.recovery import SecurityAnswer, SecurityQuestion
from intelliauth_sms.models.spend import DailySpend
from intelliauth_sms.models.tenant import (
    DEFAULT_TENANT_SLUG,
    CountryRule,
    PumpingProtection,
    Tenant,
    TenantMembership,
    TenantPolicy,
)
from intelliauth_sms.models.user_state import SendLock, SmsUserState

__all__ = [
    "DailySpend",
    "DEFAULT_TENANT_SLUG",
    "AuditEvent",
    "AuthFlow",
    "FlowKind",
    "CodePurpose",
    "CodeState",
    "CountryRule",
    "EventType",
    "FactorPurpose",
    "MessageStatus",
    "Outcome",
    "PendingEnrolment",
    "PrefixBreaker",
    "PumpingProtection",
    "SecurityAnswer",
    "SecurityQuestion",
    "SendLock",
    "SmsCode",
    "SmsFactor",
    "SmsMessage",
    "SmsUserState",
    "Tenant",
    "TenantMembership",
    "TenantPolicy",
]
