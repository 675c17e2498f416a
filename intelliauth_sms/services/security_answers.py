"""Security questions and answers for account recovery (CONTRACT §3-§4, SECURITY.md 14-15).

Answers are compared the way a person retyping them expects: case, accents and spaces
around or between words do not matter. They are stored only as Django password hashes and
never read back, by anyone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from intelliauth_sms.conf import app_settings
from intelliauth_sms.exceptions import InvalidRequest
from intelliauth_sms.models import EventType, SecurityAnswer, SecurityQuestion, Tenant
from intelliauth_sms.services import audit, notifications
from intelliauth_sms.services.context import Caller

#: Longest answer accepted (after normalising); longer input is refused before hashing.
MAX_ANSWER_LENGTH = 200
#: Fewest characters an answer may have once normalised ("a" protects nothing).
MIN_ANSWER_LENGTH = 2


@dataclass(frozen=True)
class Question:
    """A question as the API lists it."""

    id: str
    text: str


def normalise_answer(raw: str) -> str:
    """Fold case and accents, and collapse whitespace: "  Café  Rouge " → "cafe rouge"."""
    decomposed = unicodedata.normalize("NFKD", raw)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.split()).casefold()


def offered_questions(tenant: Tenant | None) -> list[Question]:
    """The site's questions, then the tenant's own (active ones)."""
    questions = [Question(q["id"], q["text"]) for q in app_settings.SECURITY_QUESTIONS]
    if tenant is not None:
        questions += [
            Question(q.public_id, q.text)
            for q in SecurityQuestion.objects.filter(tenant=tenant, is_active=True)
        ]
    return questions


def _valid_answers(answers: object, offered: list[Question]) -> dict[str, str]:
    """``{question id: normalised answer}``, or ``invalid_request`` naming what is wrong."""
    if not isinstance(answers, Mapping) or not answers:
        raise InvalidRequest(_("Answer at least one security question."))
    offered_ids = {q.id for q in offered}
    cleaned: dict[str, str] = {}
    for question_id, answer in answers.items():
        if not isinstance(question_id, str) or question_id not in offered_ids:
            raise InvalidRequest(_("Choose the questions from the list offered."))
        if not isinstance(answer, str) or len(answer) > MAX_ANSWER_LENGTH * 4:
            raise InvalidRequest(_("Each answer must be text of at most 200 characters."))
        normalised = normalise_answer(answer)
        if not MIN_ANSWER_LENGTH <= len(normalised) <= MAX_ANSWER_LENGTH:
            raise InvalidRequest(_("Each answer must be text of 2 to 200 characters."))
        cleaned[question_id] = normalised
    return cleaned


def set_answers(user: Any, answers: object, *, request: HttpRequest | None = None) -> None:
    """Replace the user's answers with ``answers`` (``{question id: answer}``).

    Audited (``security_answers_changed``, the question ids only) and emailed to the user.
    Bad input raises ``InvalidRequest`` and changes nothing.
    """
    caller = Caller.for_user(user, request)
    cleaned = _valid_answers(answers, offered_questions(caller.tenant))
    now = timezone.now()
    with transaction.atomic():
        SecurityAnswer.objects.filter(user=user).delete()
        SecurityAnswer.objects.bulk_create(
            SecurityAnswer(
                user=user,
                question_id=question_id,
                answer_hash=make_password(answer),
                updated_at=now,
            )
            for question_id, answer in cleaned.items()
        )
        audit.record(
            EventType.SECURITY_ANSWERS_CHANGED,
            caller,
            detail={"questions": sorted(cleaned)},
        )
        notifications.notify(user, "security_answers_changed", {"when": now})


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    """A real hash to check against when there is nothing to check (equal timing)."""
    return make_password("intelliauth-sms stand-in answer")


def answers_match(user: Any | None, supplied: object, *, max_checked: int) -> bool:
    """Whether ``supplied`` answers every question the user set, correctly.

    Runs the password hasher once per supplied answer (at most ``max_checked``) whatever
    the user, so an unknown user, a user without answers and a wrong answer take the same
    time. A user without answers never matches.
    """
    stored: dict[str, str] = {}
    if user is not None:
        stored = dict(
            SecurityAnswer.objects.filter(user=user).values_list("question_id", "answer_hash")
        )
    given = dict(supplied) if isinstance(supplied, Mapping) else {}
    matched: set[str] = set()
    for question_id, answer in list(given.items())[:max_checked]:
        text = normalise_answer(answer) if isinstance(answer, str) else ""
        text = text[:MAX_ANSWER_LENGTH]
        target = stored.get(question_id) if isinstance(question_id, str) else None
        if check_password(text, target or _stand_in_hash()) and target is not None:
            matched.add(str(question_id))
    return bool(stored) and set(stored) <= matched


def has_answers(user: Any) -> bool:
    """Whether the user has set any security answers."""
    return SecurityAnswer.objects.filter(user=user).exists()
