"""Settings of the admin benchmark: the unit-test settings on a PostgreSQL database of its own.

``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/intelliauth_sms_bench``)
names it; the benchmark creates the database when it is missing and never touches another.
"""

import os

import dj_database_url

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intelliauth_sms_bench"
        )
    )
}
