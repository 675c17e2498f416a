"""AWS SNS ``Publish`` to a phone number (``pip install intelliauth-sms[aws]``).

``INTELLIAUTH_SMS["SNS"] = {"REGION", "ENDPOINT_URL", "SENDER_ID", "SMS_TYPE", "TIMEOUT"}``.
Credentials come from boto3's usual chain (environment, profile, instance role), never
from these settings.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from intelliauth_sms.backends.base import OutgoingSms, ProviderSmsBackend


@functools.lru_cache(maxsize=8)
def client(region: str, endpoint_url: str | None, timeout: float) -> Any:
    """One SNS client per configuration and process: creating one costs tens of
    milliseconds, and clients are thread-safe. botocore's own retries are off: a send is
    attempted once, and the failover and retry decisions stay the app's."""
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"total_max_attempts": 1},
    )
    return boto3.client("sns", region_name=region, endpoint_url=endpoint_url, config=config)


class SmsBackend(ProviderSmsBackend[dict[str, Any], dict[str, Any]]):
    """``sns.publish(PhoneNumber=…, Message=…)``; the ``MessageId`` is the provider id."""

    settings_key = "SNS"
    required_settings = ("REGION",)
    defaults = {"SMS_TYPE": "Transactional", "TIMEOUT": 10, "ENDPOINT_URL": None, "SENDER_ID": ""}
    # https://docs.aws.amazon.com/sns/latest/api/API_Publish.html#API_Publish_Errors
    transient_codes = frozenset(
        {"Throttling", "ThrottlingException", "ThrottledException", "InternalError"}
        | {"InternalFailure", "ServiceUnavailable", "KMSThrottlingException"}
    )
    permanent_codes = frozenset(
        {"InvalidParameter", "InvalidParameterValue", "AuthorizationError", "OptedOut"}
        | {"InvalidClientTokenId", "SignatureDoesNotMatch", "NoCredentials"}
    )
    error_messages = {
        "InvalidParameter": "invalid parameter (the phone number?)",
        "InvalidParameterValue": "invalid parameter value (the phone number?)",
        "AuthorizationError": "not authorised to publish SMS",
        "InvalidClientTokenId": "authentication failed (unknown access key)",
        "SignatureDoesNotMatch": "authentication failed (wrong secret key)",
        "NoCredentials": "no AWS credentials found",
        "Throttling": "throttled",
    }

    def build_request(self, sms: OutgoingSms) -> dict[str, Any]:
        attributes = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": self.config["SMS_TYPE"]}
        }
        if self.config.get("SENDER_ID"):
            attributes["AWS.SNS.SMS.SenderID"] = {
                "DataType": "String",
                "StringValue": str(self.config["SENDER_ID"]),
            }
        return {"PhoneNumber": sms.to, "Message": sms.body, "MessageAttributes": attributes}

    def post(self, request: dict[str, Any]) -> dict[str, Any]:
        sns = client(str(self.config["REGION"]), self.config["ENDPOINT_URL"], self.timeout)
        try:
            answer: dict[str, Any] = sns.publish(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise self.error(status=status, provider_code=str(error.get("Code", ""))) from exc
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            raise self.error(provider_code="timeout", message="no answer in time") from exc
        except BotoConnectionError as exc:
            raise self.error(provider_code="connection_error", message="no connection") from exc
        except NoCredentialsError as exc:
            raise self.error(provider_code="NoCredentials") from exc
        except BotoCoreError as exc:
            # Anything else botocore raises before an answer (a bad endpoint URL, a
            # parameter it refused): permanent, named by its class.
            raise self.error(status=400, provider_code=type(exc).__name__) from exc
        return answer

    def parse_answer(self, answer: dict[str, Any]) -> str:
        message_id = answer.get("MessageId")
        if not message_id:
            raise self.error(status=200, message="the answer has no MessageId")
        return str(message_id)
