"""The API answers in the request's language; the SMS and the email follow it (issue 12)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from celery import current_app
from django.core import mail
from django.utils import timezone, translation

from intelliauth_sms.services import dispatch, requeue
from tests.conftest import last_code

PHONE = "+14155550100"

BAD_NUMBER = {
    "en": "Enter the phone number in international format, for example +14155550100.",
    "fr": "Saisissez le numéro de téléphone au format international, par exemple +14155550100.",
    "es": "Introduzca el número de teléfono en formato internacional, por ejemplo +14155550100.",
}
SMS = {
    "en": "Your verification code is {code}. It expires in 5 minutes.",
    "fr": "Votre code de vérification est {code}. Il expire dans 5 minutes.",
    "es": "Su código de verificación es {code}. Caduca en 5 minutos.",
}
WRONG_CODE = {
    "en": "Make sure you typed the latest code. Codes expire after 5 minutes.",
    "fr": "Vérifiez que vous avez saisi le dernier code reçu. Les codes expirent au bout de "
    "5 minutes.",
    "es": "Asegúrese de haber escrito el último código. Los códigos caducan a los 5 minutos.",
}
ADDED_SUBJECT = {
    "en": "A phone number was added to your account",
    "fr": "Un numéro de téléphone a été ajouté à votre compte",
    "es": "Se ha añadido un número de teléfono a su cuenta",
}


def start(api: Any, language: str, phone: str = PHONE) -> Any:
    return api.post(
        "/api/mfa/sms/enrolments/",
        {"phone_number": phone},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_an_error_is_in_the_request_language_and_its_code_is_not(api: Any, language: str) -> None:
    response = start(api, language, phone="not a number")

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid_phone_number", "message": BAD_NUMBER[language]}
    }
    assert response["Content-Language"] == language


def test_an_unsupported_language_gets_english(api: Any) -> None:
    response = start(api, "de-DE,de;q=0.9", phone="not a number")

    assert response.json()["error"]["message"] == BAD_NUMBER["en"]


def test_a_regional_variant_gets_its_language(api: Any) -> None:
    response = start(api, "fr-CA,fr;q=0.9,en;q=0.5", phone="not a number")

    assert response.json()["error"]["message"] == BAD_NUMBER["fr"]


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_sms_is_in_the_language_of_the_request(
    api: Any, outbox: list[Any], language: str
) -> None:
    response = start(api, language)

    assert response.status_code == 201, response.content
    assert [sms.body for sms in outbox] == [SMS[language].format(code=last_code(outbox))]


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_a_wrong_code_is_explained_in_the_request_language(
    api: Any, outbox: list[Any], language: str
) -> None:
    started = start(api, language).json()
    wrong = "000000" if last_code(outbox) != "000000" else "111111"

    response = api.post(
        f"/api/mfa/sms/enrolments/{started['id']}/complete/",
        {"code": wrong},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("invalid_code", WRONG_CODE[language])
    assert isinstance(error["attempts_remaining"], int)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_security_email_is_in_the_language_of_the_request(
    api: Any, outbox: list[Any], language: str
) -> None:
    started = start(api, language).json()

    done = api.post(
        f"/api/mfa/sms/enrolments/{started['id']}/complete/",
        {"code": last_code(outbox)},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert done.status_code == 201, done.content
    [email] = mail.outbox
    assert email.subject == ADDED_SUBJECT[language]
    assert email.body.startswith({"en": "Hello,", "fr": "Bonjour,", "es": "Hola:"}[language])
    assert started["phone_number_masked"] in email.body


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Hold each task the request queues instead of running it: ``(task, *args)``."""
    calls: list[tuple[Any, ...]] = []

    def hold(name: str, *args: Any) -> bool:
        calls.append((current_app.tasks[name], *args))
        return True

    monkeypatch.setattr(dispatch, "publish", hold)
    return calls


def test_the_language_travels_with_the_task(
    api: Any, outbox: list[Any], held: list[tuple[Any, ...]]
) -> None:
    assert start(api, "fr").status_code == 201
    [(task, message_id, sealed, language)] = held
    assert (task.name, language) == ("intelliauth_sms.deliver_sms", "fr")

    # The worker runs it later, in its own (English) language: the SMS is still French.
    with translation.override("en"):
        task.apply(args=(message_id, sealed, language)).get()

    assert [sms.body for sms in outbox] == [SMS["fr"].format(code=last_code(outbox))]


def test_a_task_queued_without_a_language_renders_in_the_worker_language(
    api: Any, outbox: list[Any], held: list[tuple[Any, ...]]
) -> None:
    assert start(api, "fr").status_code == 201
    [(task, message_id, sealed, _language)] = held

    # A task queued by the previous version carries only the message id and the code.
    with translation.override("es"):
        task.apply(args=(message_id, sealed)).get()

    assert [sms.body for sms in outbox] == [SMS["es"].format(code=last_code(outbox))]
    assert translation.get_language() != "es"  # the override did not leak


def test_a_message_the_sweep_queues_again_keeps_the_language_of_its_request(
    api: Any, held: list[tuple[Any, ...]], django_capture_on_commit_callbacks: Any
) -> None:
    assert start(api, "es").status_code == 201
    [(_task, message_id, _sealed, language)] = held
    held.clear()  # the task was lost: the broker never had it

    later = timezone.now() + timedelta(seconds=requeue.SWEEP_AFTER_SECONDS + 1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        requeue.sweep_queued()

    [(task, requeued_id, _new_sealed, requeued_language)] = held
    assert task.name == "intelliauth_sms.deliver_sms"
    assert (requeued_id, requeued_language) == (message_id, language) == (message_id, "es")


def test_a_security_email_task_carries_and_uses_the_language(
    user: Any, held: list[tuple[Any, ...]], django_capture_on_commit_callbacks: Any
) -> None:
    from intelliauth_sms.services.notifications import notify

    with translation.override("es"), django_capture_on_commit_callbacks(execute=True):
        notify(user, "security_answers_changed", {"when": "2026-12-04T05:00:00+00:00"})
    [(task, *args)] = held
    assert args[-1] == "es"

    with translation.override("en"):
        task.apply(args=args).get()

    [email] = mail.outbox
    assert email.subject == "Se han cambiado sus respuestas de seguridad"
    assert "el 4 diciembre 2026, 05:00 UTC" in email.body  # the month is translated too
