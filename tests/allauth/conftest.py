"""The ``allauth`` tier: collected only when django-allauth is installed."""

from __future__ import annotations

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("allauth") else ["test_*.py"]
