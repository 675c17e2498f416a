"""Public Python API of the sign-in SMS step (CONTRACT §4)."""

from intelliauth_sms.services.flows import (
    FlowNotUsable,
    claim_verified_flow,
    complete_login,
    complete_sms_step,
    get_flow,
    initiate_sms_step,
    start_flow,
)

__all__ = [
    "FlowNotUsable",
    "claim_verified_flow",
    "complete_login",
    "complete_sms_step",
    "get_flow",
    "initiate_sms_step",
    "start_flow",
]
