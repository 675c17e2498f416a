"""POST ``phone-numbers/normalise/``: a number as a person typed it, in E.164.

The enrolment API stays strict (E.164 only). A phone field that lets people pick a country
and type the number their way calls this first, then sends the ``phone_number`` it answers
to ``enrolments/``. Nothing is stored, sent or audited: it only formats and validates.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from intelliauth_sms.api import inputs
from intelliauth_sms.api.views import SignedInView
from intelliauth_sms.phone import normalise_national


class PhoneNumberNormaliseView(SignedInView):
    """Answer 200 ``{"phone_number", "phone_number_masked"}`` for ``{"country", "number"}``.

    For example ``{"country": "GB", "number": "07911 123456"}`` gives ``"+447911123456"``.
    Needs a signed-in user, like enrolment. A number that is not valid for the country, or
    not of a type SMS codes may go to, is 400 ``invalid_phone_number``.
    """

    def post(self, request: Request) -> Response:
        body = inputs.json_object(request)
        phone = normalise_national(body.get("country"), body.get("number"))
        return Response({"phone_number": phone.e164, "phone_number_masked": phone.masked})
