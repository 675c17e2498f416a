"""The console's change lists: malformed query parameters answer a page, never a 500.

Django's admin turns the lookup errors it recognises into a redirect to ``?e=1``
(``IncorrectLookupParameters``), but not all of them: a NUL byte reaches PostgreSQL and
fails there, ``?ip_address=x`` fails when the query is compiled, and
``?created_at__year=9999`` overflows the date drill-down. This change list refuses a NUL
byte up front, and compiles its query while it is built, so every such error becomes the
admin's own "wacky parameters" redirect (CONTRACT §6).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

_NUL = "\x00"


def has_nul(params: Any) -> bool:
    """Whether any key or value of a ``QueryDict`` holds a NUL byte."""
    return any(_NUL in key or any(_NUL in value for value in params.getlist(key)) for key in params)


class ConsoleChangeList(ChangeList):
    """A change list whose bad parameters are ``IncorrectLookupParameters``, always."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        if has_nul(request.GET):
            raise IncorrectLookupParameters("NUL byte in the query string")
        try:
            queryset = super().get_queryset(request, exclude_parameters)
            # Compile now: a value its field cannot take (an IP address "x") fails here,
            # not while the page renders.
            queryset.query.get_compiler(queryset.db).as_sql()
        except (EmptyResultSet, FullResultSet):
            pass  # a query the database need not run: nothing wrong with its parameters
        except (ValueError, ValidationError, OverflowError, TypeError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset
