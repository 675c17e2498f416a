"""The WSGI application gunicorn serves in the scale tier."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.scale.settings")

application = get_wsgi_application()
