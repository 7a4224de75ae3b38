"""One bounded HTTP POST for the HTTP channels, with failures mapped to DeliveryError."""

from __future__ import annotations

import atexit
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from tocsin.channels.base import DeliveryError
from tocsin.channels.netguard import check_url

# Provider answers are small JSON documents; a bigger one is not read in full.
MAX_RESPONSE_BYTES = 64 * 1024

# One client for every HTTP channel and thread (httpx clients are thread-safe): building a
# client loads the CA bundle (~70 ms here, measured with py-spy: it capped sending at ~50
# messages/s), and a shared pool keeps connections to providers alive between pages.
_CLIENT = httpx.Client(
    follow_redirects=False,
    limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
)
atexit.register(_CLIENT.close)  # close kept-alive sockets at exit, quietly


@dataclass(frozen=True)
class Reply:
    """The provider's answer: status, headers and (at most MAX_RESPONSE_BYTES of) body."""

    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or {} when it is not one."""
        try:
            value = json.loads(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


def post(
    url: str,
    *,
    timeout: float,
    label: str,
    allow_private: bool = True,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    data: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> Reply:
    """POST and return the reply, whatever its status; never follows redirects.

    ``timeout`` bounds connecting, each write and each read (httpx applies it per
    step). Connection errors and timeouts raise a temporary DeliveryError naming
    ``label`` (the provider), never the URL, which may carry a secret.
    ``allow_private=False`` applies the SSRF guard (netguard) before connecting.
    """
    check_url(url, allow_private=allow_private)
    try:
        request = _CLIENT.build_request(
            "POST",
            url,
            headers=dict(headers or {}),
            content=content,
            data=data,
            timeout=httpx.Timeout(timeout),
        )
        response = _CLIENT.send(request, stream=True, auth=httpx.BasicAuth(*auth) if auth else None)
        try:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= MAX_RESPONSE_BYTES:
                    break
        finally:
            response.close()
    except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        # Our request cannot be sent at all (a header with a newline, a bad URL): config.
        raise DeliveryError(f"{label}: {type(exc).__name__}: {exc}", temporary=False) from exc
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"{label}: timed out after {timeout:g} s", temporary=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{label}: {type(exc).__name__}: {exc}", temporary=True) from exc
    return Reply(response.status_code, response.headers, body[:MAX_RESPONSE_BYTES])


def status_error(label: str, reply: Reply, detail: str = "") -> DeliveryError:
    """The DeliveryError for a non-success status: 408, 425, 429 and 5xx are temporary.

    A 3xx is permanent: redirects are never followed (a redirect could lead the
    request past the SSRF guard), so the configured URL needs fixing.
    """
    temporary = reply.status in (408, 425, 429) or reply.status >= 500
    message = f"{label}: HTTP {reply.status}"
    if detail:
        message += f": {detail}"
    retry_after = reply.headers.get("Retry-After")
    if retry_after and temporary:
        message += f" (retry after {retry_after} s)"
    return DeliveryError(message, temporary=temporary)
