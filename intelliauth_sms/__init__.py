"""intelliauth-sms: SMS one-time-code MFA for Django sites."""

__version__ = "0.1.0"
