"""``GET security-questions/`` and ``PUT security-answers/``: hashed, never readable, MFA-bound."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import check_password

from intelliauth_sms.models import AuditEvent, SecurityAnswer, SecurityQuestion
from intelliauth_sms.services.security_answers import normalise_answer
from tests.factories import MembershipFactory, SmsFactorFactory, TenantFactory
from tests.recovery import ANSWERS_URL, QUESTIONS_URL, error_of

SITE_IDS = [
    "first-school",
    "childhood-street",
    "first-employer",
    "favourite-teacher",
    "first-concert",
]


def put(client: Any, answers: Any) -> Any:
    return client.put(ANSWERS_URL, {"answers": answers}, format="json")


def test_the_site_questions_are_listed_with_a_sensible_default(anon_api: Any) -> None:
    response = anon_api.get(QUESTIONS_URL)
    assert response.status_code == 200
    listed = response.json()
    assert [q["id"] for q in listed] == SITE_IDS
    assert all(set(q) == {"id", "text"} and q["text"].endswith("?") for q in listed)


def test_the_site_list_comes_from_the_setting(anon_api: Any, settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {
        **settings.INTELLIAUTH_SMS,
        "SECURITY_QUESTIONS": [{"id": "pet", "text": "Your first pet?"}],
    }
    assert anon_api.get(QUESTIONS_URL).json() == [{"id": "pet", "text": "Your first pet?"}]


def test_a_signed_in_user_also_gets_their_tenants_questions_and_no_others(
    api: Any, user: Any
) -> None:
    mine, theirs = TenantFactory(), TenantFactory()
    MembershipFactory(user=user, tenant=mine)
    offered = SecurityQuestion.objects.create(tenant=mine, text="Our team's mascot?")
    SecurityQuestion.objects.create(tenant=mine, text="Retired?", is_active=False)
    SecurityQuestion.objects.create(tenant=theirs, text="Not yours?")
    listed = api.get(QUESTIONS_URL).json()
    assert [q["id"] for q in listed] == [*SITE_IDS, f"tenant-{offered.id}"]
    assert listed[-1]["text"] == "Our team's mascot?"


def test_an_anonymous_recovery_page_may_name_its_tenant(anon_api: Any) -> None:
    tenant = TenantFactory(slug="acme")
    question = SecurityQuestion.objects.create(tenant=tenant, text="Acme's founder?")
    named = anon_api.get(QUESTIONS_URL, {"tenant": "acme"}).json()
    assert named[-1] == {"id": f"tenant-{question.id}", "text": "Acme's founder?"}
    assert [q["id"] for q in anon_api.get(QUESTIONS_URL, {"tenant": "nope"}).json()] == SITE_IDS
    assert anon_api.get(QUESTIONS_URL, {"tenant": "x" * 500}).status_code == 200


def test_answers_are_stored_hashed_after_normalising_and_never_readable(
    api: Any, user: Any, mailoutbox: list[Any]
) -> None:
    response = put(api, {"first-school": "  Sainte-Thérèse  ÉCOLE ", "first-concert": "Björk"})

    assert response.status_code == 204, response.content
    stored = {a.question_id: a.answer_hash for a in SecurityAnswer.objects.filter(user=user)}
    assert set(stored) == {"first-school", "first-concert"}
    for answer_hash in stored.values():
        assert "therese" not in answer_hash.lower() and "bjork" not in answer_hash.lower()
    assert check_password("sainte-therese ecole", stored["first-school"])
    assert check_password("bjork", stored["first-concert"])
    # Not readable back through the API.
    assert api.get(ANSWERS_URL).status_code == 405
    changed = AuditEvent.objects.get(event_type="security_answers_changed")
    assert changed.detail == {"questions": ["first-concert", "first-school"]}
    assert "Björk" not in str(changed.detail)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Your security answers were changed"
    assert "Björk" not in mailoutbox[0].body


def test_a_put_replaces_every_previous_answer(api: Any, user: Any) -> None:
    assert put(api, {"first-school": "One", "first-concert": "Two"}).status_code == 204
    assert put(api, {"first-employer": "Three"}).status_code == 204
    assert list(SecurityAnswer.objects.filter(user=user).values_list("question_id", flat=True)) == [
        "first-employer"
    ]


@pytest.mark.parametrize(
    "answers",
    [
        None,
        [],
        {},
        "first-school",
        {"unknown-question": "x y z"},
        {"first-school": 42},
        {"first-school": ""},
        {"first-school": "  a  "},
        {"first-school": "x" * 201},
        {"first-school": ["x"]},
    ],
)
def test_bad_answers_are_invalid_request_and_change_nothing(
    answers: Any, api: Any, user: Any
) -> None:
    assert put(api, {"first-employer": "Kept answer"}).status_code == 204
    response = put(api, answers)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_request"
    assert list(SecurityAnswer.objects.filter(user=user).values_list("question_id", flat=True)) == [
        "first-employer"
    ]


def test_a_foreign_tenants_question_cannot_be_answered(api: Any, user: Any) -> None:
    foreign = SecurityQuestion.objects.create(tenant=TenantFactory(), text="Other?")
    response = put(api, {f"tenant-{foreign.id}": "answer"})
    assert response.status_code == 400


def test_changing_answers_is_mfa_bound(user: Any, client_for: Any, anon_api: Any) -> None:
    from django.utils import timezone

    from tests.mfa import IssuedToken

    SmsFactorFactory(user=user)
    password_only = anon_api
    password_only.force_authenticate(user)
    assert error_of(put(password_only, {"first-school": "abc"}))["code"] == "mfa_required"
    stale = IssuedToken(mfa_verified_at=timezone.now() - timezone.timedelta(minutes=30))
    password_only.force_authenticate(user, token=stale)
    response = put(password_only, {"first-school": "abc"})
    assert error_of(response)["code"] == "reauthentication_required"
    assert not SecurityAnswer.objects.exists()
    assert put(client_for(user), {"first-school": "abc"}).status_code == 204


def test_anonymous_users_cannot_set_answers(anon_api: Any) -> None:
    response = put(anon_api, {"first-school": "abc"})
    assert response.status_code in (401, 403)
    assert not SecurityAnswer.objects.exists()


def test_normalising_folds_case_accents_and_whitespace() -> None:
    assert normalise_answer("  Crème\tBRÛLÉE  ") == "creme brulee"
    assert normalise_answer("ＦＵＬＬ width") == "full width"
    assert normalise_answer("Straße") == "strasse"
    assert normalise_answer("a  b") == normalise_answer("A B")
    assert normalise_answer("ab") != normalise_answer("a b")
