"""Paging a table of a million rows without counting it on every page load.

Django's admin paginator runs ``SELECT COUNT(*)`` over the filtered rows for every page,
and ``show_full_result_count`` adds a second one over the whole table: on a million audit
events that is most of the page's time. ``CappedCountPaginator`` counts at most
``count_limit + 1`` rows; past that it pages through the newest ``count_limit`` rows and
shows the planner's estimate of the total (PostgreSQL) or "more than" (other databases).
Older rows are a filter, a search or a date away, which is how support staff look for them.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any, ClassVar

from django.core.paginator import Paginator
from django.db import DatabaseError, connections
from django.db.models import QuerySet
from django.http import HttpRequest

from intelliauth_sms.admin.changelist import ConsoleChangeList


def planner_estimate(queryset: QuerySet[Any]) -> int | None:
    """The row count PostgreSQL's planner expects for ``queryset``; ``None`` elsewhere."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    try:
        plan = json.loads(queryset.order_by().explain(format="json"))
        return int(plan[0]["Plan"]["Plan Rows"])
    except (DatabaseError, ValueError, KeyError, IndexError, TypeError):
        return None


class CappedCountPaginator(Paginator):
    """Counts at most ``count_limit + 1`` rows; pages through the newest ``count_limit``."""

    count_limit: ClassVar[int] = 10_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capped = False
        self.total_estimate: int | None = None

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if not isinstance(object_list, QuerySet):
            return len(object_list)
        # Ordering and joins play no part in a count; without them the database reads the
        # first ``count_limit + 1`` entries of an index and stops.
        bounded = object_list.order_by().values("pk")[: self.count_limit + 1].count()
        if bounded <= self.count_limit:
            return bounded
        self.capped = True
        estimate = planner_estimate(object_list)
        if estimate is not None:
            # An estimate is a guess; it never says less than what was counted.
            self.total_estimate = max(estimate, bounded)
        return self.count_limit


class CappedChangeList(ConsoleChangeList):
    """A changelist that says "about N" instead of a count it did not make."""

    paginator: CappedCountPaginator

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        narrowed = self.has_active_filters or bool(self.query)
        if getattr(self.paginator, "capped", False) or not narrowed:
            # Without a full count Django's search box prints "N results (Show all)" on
            # every page, and the capped number as if it were the count. The paginator
            # line says what is known instead.
            self.full_result_count = self.result_count
