# Load the test Celery app so tasks bind to it, as a site's project package would.
from .celery_app import app as celery_app

__all__ = ["celery_app"]
