"""Recording who changed a tenant's policy: one ``policy_changed`` audit event per changed
field of a tenant's policy, country rules, or (for superusers) the tenant and its
memberships, with the old and new values, so support can answer "who loosened this limit?".

``form_changes`` and ``formset_changes`` read the changes a submitted admin form or inline
formset makes; ``record_policy_changes`` records them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.forms import BaseModelForm, ModelChoiceField

from intelliauth_sms.models import AuditEvent, EventType, Tenant
from intelliauth_sms.services import audit

#: Form fields that are not settings: the row's own keys and the formset's bookkeeping.
NOT_SETTINGS = frozenset({"id", "tenant", "DELETE"})


@dataclass(frozen=True)
class FieldChange:
    """One changed value: ``target`` is ``tenant_policy``, ``country_rule``, ``tenant`` or
    ``membership``; ``key`` names the row within it (a country, a username) when there are
    several. ``old`` is ``None`` for an added row, ``new`` is ``None`` for a deleted one."""

    target: str
    field: str
    old: Any
    new: Any
    key: str = ""


def plain(value: Any) -> Any:
    """A JSON-friendly form of a model field value (decimals as strings)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record_policy_changes(
    actor: Any, tenant: Tenant, changes: Iterable[FieldChange], *, ip: str | None = None
) -> list[AuditEvent]:
    """Record one ``policy_changed`` event per change, with the actor and old/new values.

    Call it in the transaction that saves the change, so both commit or neither.
    """
    events = []
    for change in changes:
        detail: dict[str, Any] = {
            "target": change.target,
            "field": change.field,
            "old": plain(change.old),
            "new": plain(change.new),
        }
        if change.key:
            detail["key"] = change.key
        events.append(
            audit.record(EventType.POLICY_CHANGED, actor=actor, tenant=tenant, ip=ip, detail=detail)
        )
    return events


def initial_value(form: BaseModelForm, name: str) -> Any:
    """The value a field had when the form was loaded; a related row as its string."""
    value = form.initial.get(name)
    field = form.fields.get(name)
    if (
        isinstance(field, ModelChoiceField)
        and field.queryset is not None
        and value is not None
        and not isinstance(value, Model)
    ):
        return field.queryset.filter(pk=value).first() or value
    return value


def form_changes(
    form: BaseModelForm, target: str, key: str = "", ignore: frozenset[str] = NOT_SETTINGS
) -> list[FieldChange]:
    """The changes one submitted form makes: every changed field of an existing row, or
    the whole row when it is added."""
    if form.instance.pk is None:
        if not form.has_changed():
            return []
        row = {n: form.cleaned_data.get(n) for n in form.fields if n not in ignore}
        return [FieldChange(target, "row", None, row, key)]
    return [
        FieldChange(target, name, initial_value(form, name), form.cleaned_data.get(name), key)
        for name in form.changed_data
        if name not in ignore
    ]


def formset_changes(formset: Any, target: str, key_field: str = "") -> list[FieldChange]:
    """The changes a submitted inline formset makes: added, changed and deleted rows.

    Read before ``formset.save()``: the initial values are the rows as they were loaded.
    """
    changes: list[FieldChange] = []
    for form in formset.forms:
        if not hasattr(form, "cleaned_data"):
            continue
        key = str(form.cleaned_data.get(key_field) or initial_value(form, key_field) or "")
        if form.cleaned_data.get("DELETE"):
            if form.instance.pk is not None:
                row = {n: initial_value(form, n) for n in form.fields if n not in NOT_SETTINGS}
                changes.append(FieldChange(target, "row", row, None, key))
            continue
        changes += form_changes(form, target, key)
    return changes
