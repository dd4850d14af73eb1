"""The Invoke API's caller check: a request boto3 signed with the stack's key, and no other."""

from __future__ import annotations

import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from shop_local.runtime.invoke_auth import (
    InvalidSignature,
    InvokeAuth,
    InvokeCredentials,
    SignedRequest,
    UnrecognizedClient,
)

KEY = InvokeCredentials("AKIALOCALTEST", "the-stacks-secret")
ARN_PATH = ("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction"
            "%3Ashop-user-dev/invocations")


def signed(credentials: InvokeCredentials = KEY, body: bytes = b'{"a": 1}',
           path: str = ARN_PATH, query: str = "Qualifier=%24LATEST",
           service: str = "lambda") -> SignedRequest:
    """A request as boto3 signs it, seen as the server receives it."""
    url = f"http://127.0.0.1:3001{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method="POST", url=url, data=body,
                         headers={"X-Amz-Log-Type": "Tail", "Content-Type": "application/json"})
    SigV4Auth(Credentials(credentials.access_key_id, credentials.secret_access_key),
              service, "us-east-1").add_auth(request)
    headers = [(name.lower(), value) for name, value in request.headers.items()]
    return SignedRequest("POST", urlsplit(url).path, query,
                         [("host", "127.0.0.1:3001"), *headers], body)


def replaced(request: SignedRequest, **fields: object) -> SignedRequest:
    return SignedRequest(**{**request.__dict__, **fields})  # type: ignore[arg-type]


def test_can_accept_a_request_signed_with_the_key() -> None:
    InvokeAuth(KEY).check(signed())
    InvokeAuth(KEY).check(signed(path="/2015-03-31/functions/shop-user-dev/invocations",
                                 query=""))


def test_can_accept_anyone_when_no_key_is_configured() -> None:
    InvokeAuth.open().check(replaced(signed(), headers=[]))


@pytest.mark.parametrize("credentials", [InvokeCredentials("AKIASTRANGER", "guessed"),
                                         InvokeCredentials("stranger", KEY.secret_access_key)])
def test_another_key_id_is_an_unrecognized_client(credentials: InvokeCredentials) -> None:
    with pytest.raises(UnrecognizedClient):
        InvokeAuth(KEY).check(signed(credentials))


def test_an_unsigned_request_is_an_unrecognized_client() -> None:
    request = signed()
    unsigned = [(name, value) for name, value in request.headers if name != "authorization"]
    with pytest.raises(UnrecognizedClient) as raised:
        InvokeAuth(KEY).check(replaced(request, headers=unsigned))
    assert raised.value.status == 403


def test_a_signature_for_another_service_is_refused() -> None:
    with pytest.raises(UnrecognizedClient):
        InvokeAuth(KEY).check(signed(service="s3"))


def test_the_right_key_id_with_a_guessed_secret_is_an_invalid_signature() -> None:
    with pytest.raises(InvalidSignature) as raised:
        InvokeAuth(KEY).check(signed(InvokeCredentials(KEY.access_key_id, "guessed")))
    assert raised.value.error_type == "InvalidSignatureException"


@pytest.mark.parametrize("change", [
    {"body": b'{"a": 2}'},
    {"raw_path": "/2015-03-31/functions/shop-communication-dev-order_invoice/invocations"},
    {"query_string": "Qualifier=other"},
    {"method": "PUT"},
])
def test_a_signed_request_altered_on_the_way_is_an_invalid_signature(
        change: dict[str, object]) -> None:
    with pytest.raises(InvalidSignature):
        InvokeAuth(KEY).check(replaced(signed(), **change))


def test_an_altered_signed_header_is_an_invalid_signature() -> None:
    request = signed()
    headers = [(name, "None" if name == "x-amz-log-type" else value)
               for name, value in request.headers]
    with pytest.raises(InvalidSignature):
        InvokeAuth(KEY).check(replaced(request, headers=headers))


def test_a_body_that_is_not_the_declared_hash_is_an_invalid_signature() -> None:
    request = signed()
    headers = [*request.headers, ("x-amz-content-sha256", "0" * 64)]
    with pytest.raises(InvalidSignature):
        InvokeAuth(KEY).check(replaced(request, headers=headers))


@pytest.mark.parametrize("minutes", [-16, 16])
def test_a_signature_more_than_15_minutes_off_is_refused(minutes: int) -> None:
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=minutes)
    with pytest.raises(InvalidSignature, match=r"Signature (expired|not yet current)"):
        InvokeAuth(KEY).check(signed(), now=later)
    InvokeAuth(KEY).check(signed(), now=later - datetime.timedelta(minutes=minutes // 2))


def test_can_read_the_key_from_the_environment_or_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SHOP_LAMBDA_ACCESS_KEY_ID=from-file\n"
                        "SHOP_LAMBDA_SECRET_ACCESS_KEY=file-secret\n")
    assert InvokeCredentials.from_environ({"SHOP_ENV_FILE": str(env_file)}) == (
        InvokeCredentials("from-file", "file-secret"))
    assert InvokeCredentials.from_environ({
        "SHOP_ENV_FILE": str(env_file), "SHOP_LAMBDA_ACCESS_KEY_ID": "from-env",
        "SHOP_LAMBDA_SECRET_ACCESS_KEY": "env-secret"}) == InvokeCredentials("from-env",
                                                                              "env-secret")
    assert InvokeCredentials.from_environ({"SHOP_ENV_FILE": ""}) is None


def test_the_secret_access_key_never_shows_in_the_credentials_repr() -> None:
    credentials = InvokeCredentials("AKIDLOCAL", "very-secret-value")
    assert "very-secret-value" not in repr(credentials)
    assert "AKIDLOCAL" in repr(credentials)
