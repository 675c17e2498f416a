"""django-allauth integration (``pip install 'intelliauth-sms[allauth]'``).

Set ``ACCOUNT_ADAPTER`` to ``intelliauth_sms.contrib.allauth.adapter.AccountAdapter`` (or
mix ``SmsDeliveryMixin`` into your own adapter): allauth makes and checks its phone codes,
this app gates, records, audits and delivers them.
"""
