"""Whether a media type is one of the API's `binaryMediaTypes` (entries may use `*`).

Requests: a body whose `Content-Type` matches reaches the function base64-encoded
(`isBase64Encoded: true`). Responses: a base64 body from the function is decoded to bytes
only when the request's first `Accept` media type matches (API Gateway "uses the first
Accept header"), else the client gets the base64 text.
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache


def essence(media_type: str | None) -> str:
    """`type/subtype` in lower case, without parameters: `Text/HTML; q=1` -> `text/html`."""
    return (media_type or "").split(";", 1)[0].strip().lower()


def first_accepted(accept: str | None) -> str:
    """The first media type of an Accept header value, e.g. `image/png,*/*` -> `image/png`."""
    return essence((accept or "").split(",", 1)[0])


@lru_cache(maxsize=1024)
def _matches(media_type: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(media_type, pattern.lower()) for pattern in patterns)


def is_binary(media_type: str | None, binary_media_types: tuple[str, ...]) -> bool:
    """Whether `media_type` matches one of `binary_media_types` (`*` wildcards allowed).

    `media_type` is a Content-Type value or `first_accepted` of an Accept value;
    parameters and case are ignored. None or empty never matches.
    """
    found = essence(media_type)
    return bool(found) and bool(binary_media_types) and _matches(found, binary_media_types)
