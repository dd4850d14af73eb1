"""Who may call the local Lambda Invoke API: requests signed with the stack's key (AWS SigV4).

AWS's Invoke API runs a function only for a request signed with Signature Version 4 by
the account's credentials
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html); the
local one does the same with one access key of the stack's, `SHOP_LAMBDA_ACCESS_KEY_ID`
and `SHOP_LAMBDA_SECRET_ACCESS_KEY` (the process environment first, then the `.env` that
`SHOP_ENV_FILE` names: `shop up` generates both into `.env`, 0600). A request is checked
by recomputing its signature with botocore's own signer over the request as received
(method, path as sent, query, the headers it says it signed, body) and comparing in
constant time. Refusals are Lambda's, 403:

- `UnrecognizedClientException`: no `Authorization` header, not SigV4, or another key id;
- `InvalidSignatureException`: a signature that does not match, a body whose
  `X-Amz-Content-SHA256` is not its hash, or an `X-Amz-Date` more than 15 minutes away
  from the clock ("Signature expired"), as AWS refuses a replayed request.

With no key configured (`shop serve` of any Chalice app, as `sam local start-lambda`)
every caller is accepted: `InvokeAuth.open()`.
"""

from __future__ import annotations

import datetime
import hmac
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from hashlib import sha256

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from dotenv import dotenv_values

from shop_local.runtime.invocation import InvokeError
from shop_local.runtime.lambda_settings import ACCESS_KEY_VARIABLE, SECRET_KEY_VARIABLE

MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)  # as AWS allows
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/"
    r"(?P<service>[a-z0-9-]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})$")
SIGNING_SERVICE = "lambda"


class UnrecognizedClient(InvokeError):
    """The caller holds no key of the stack's: unsigned, not SigV4, or another key id."""

    status = 403
    error_type = "UnrecognizedClientException"


class InvalidSignature(InvokeError):
    """The stack's key id, but not its signature: a wrong secret, an altered or stale request."""

    status = 403
    error_type = "InvalidSignatureException"


@dataclass(frozen=True)
class InvokeCredentials:
    """The stack's access key for the Invoke API: key id and secret access key."""

    access_key_id: str
    secret_access_key: str = field(repr=False)  # never in a log line or traceback

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> InvokeCredentials | None:
        """The stack's key from the environment, else from the `.env` SHOP_ENV_FILE names."""
        env = os.environ if environ is None else environ
        values: Mapping[str, str | None] = env
        if not env.get(ACCESS_KEY_VARIABLE) and env.get("SHOP_ENV_FILE"):
            values = dotenv_values(env["SHOP_ENV_FILE"])
        key_id, secret = values.get(ACCESS_KEY_VARIABLE), values.get(SECRET_KEY_VARIABLE)
        return cls(key_id, secret) if key_id and secret else None


@dataclass(frozen=True)
class SignedRequest:
    """A request as the server received it; `raw_path` percent-encoded as sent."""

    method: str
    raw_path: str
    query_string: str
    headers: list[tuple[str, str]]  # lower-case names, in order, repeats kept
    body: bytes

    def header(self, name: str) -> str:
        """The first value of header `name` (lower-case), "" when absent."""
        return next((value for key, value in self.headers if key == name), "")


@dataclass(frozen=True)
class InvokeAuth:
    """The check of every Invoke API request; `credentials` None accepts any caller."""

    credentials: InvokeCredentials | None

    @classmethod
    def open(cls) -> InvokeAuth:
        """A check that accepts every caller (no key configured, as `sam local start-lambda`)."""
        return cls(None)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> InvokeAuth:
        """The check for the stack's key (`InvokeCredentials.from_environ`); open without one."""
        return cls(InvokeCredentials.from_environ(environ))

    def check(self, request: SignedRequest, now: datetime.datetime | None = None) -> None:
        """Return when the request is signed with the key; raise UnrecognizedClient or
        InvalidSignature (see the module doc)."""
        if self.credentials is None:
            return
        match = AUTHORIZATION.match(request.header("authorization"))
        if match is None or match["service"] != SIGNING_SERVICE or not hmac.compare_digest(
                match["key"].encode(), self.credentials.access_key_id.encode()):
            raise UnrecognizedClient("The security token included in the request is invalid.")
        check_date(request.header("x-amz-date"), match["date"], now)
        declared_hash = request.header("x-amz-content-sha256")
        if declared_hash and declared_hash != sha256(request.body).hexdigest():
            raise InvalidSignature("The provided 'x-amz-content-sha256' header does not "
                                   "match what was computed.")
        expected = expected_signature(request, self.credentials, match["region"],
                                      match["signed"].split(";"))
        if not hmac.compare_digest(expected.encode(), match["signature"].encode()):
            raise InvalidSignature(
                "The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key and signing method. Consult "
                "the service documentation for details.")


def check_date(amz_date: str, scope_date: str, now: datetime.datetime | None) -> None:
    """Raise InvalidSignature unless `amz_date` is within 15 minutes of now and of the scope."""
    try:
        signed_at = datetime.datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(
            tzinfo=datetime.UTC)
    except ValueError:
        raise InvalidSignature("Authorization header requires existence of either a "
                               "'X-Amz-Date' or a 'Date' header.") from None
    if amz_date[:8] != scope_date:
        raise InvalidSignature(f"Date in Credential scope does not match YYYYMMDD from "
                               f"ISO-8601 version of date from HTTP: '{scope_date}' != "
                               f"'{amz_date[:8]}'")
    current = now or datetime.datetime.now(datetime.UTC)
    if signed_at < current - MAX_CLOCK_SKEW:
        raise InvalidSignature(f"Signature expired: {amz_date} is now earlier than "
                               f"{(current - MAX_CLOCK_SKEW).strftime(AMZ_DATE_FORMAT)}")
    if signed_at > current + MAX_CLOCK_SKEW:
        raise InvalidSignature(f"Signature not yet current: {amz_date} is still later than "
                               f"{(current + MAX_CLOCK_SKEW).strftime(AMZ_DATE_FORMAT)}")


def expected_signature(request: SignedRequest, credentials: InvokeCredentials, region: str,
                       signed_headers: Iterable[str]) -> str:
    """The SigV4 signature botocore computes for `request` as the client described it."""
    names = set(signed_headers)
    rebuilt = AWSRequest(method=request.method,
                         url=f"http://{request.header('host')}{request.raw_path}"
                             + (f"?{request.query_string}" if request.query_string else ""),
                         data=request.body)
    for name, value in request.headers:
        if name in names:
            rebuilt.headers[name] = value  # assigning again adds a value: repeats are kept
    rebuilt.context["timestamp"] = request.header("x-amz-date")
    signer = SigV4Auth(Credentials(credentials.access_key_id, credentials.secret_access_key),
                       SIGNING_SERVICE, region)
    canonical = signer.canonical_request(rebuilt)
    return str(signer.signature(signer.string_to_sign(rebuilt, canonical), rebuilt))
