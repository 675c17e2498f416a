"""The drop-in sign-in: ``path("accounts/", include("intelliauth_sms.urls"))``.

A login page (password, throttled per username and per IP, then the SMS step for users
with a sign-in phone), the SMS step page and a logout view, with templates under
``intelliauth_sms/signin/`` that a site overrides in the usual Django way.
"""
