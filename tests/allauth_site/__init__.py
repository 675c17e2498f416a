"""A minimal site signing in with django-allauth by phone (the ``allauth`` test tier)."""
