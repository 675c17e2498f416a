from django.apps import AppConfig


class AllauthSiteConfig(AppConfig):
    name = "tests.allauth_site"
    label = "allauth_site"
    default_auto_field = "django.db.models.BigAutoField"
