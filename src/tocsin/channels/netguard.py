"""Refuses outbound requests to loopback, private, link-local and reserved addresses (SSRF)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from tocsin.channels.base import DeliveryError


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise a permanent DeliveryError unless ``url`` is http(s) to public addresses only.

    People type webhook, Teams, ntfy and push URLs into their profiles; without this
    check a URL (or a DNS name pointing) at 127.0.0.1, 10.0.0.0/8 or the cloud metadata
    address 169.254.169.254 would make the server call its own private network. Every
    address the name resolves to must be global, so a name with one public and one
    private record is refused too. A resolver failure is temporary (DNS may recover).

    The check resolves the name once and the HTTP client resolves it again, so a
    hostile DNS server can still answer differently the second time (rebinding);
    an egress firewall is the complete defence, this check the first one.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"not an http(s) URL: {_redact(url)}", temporary=False)
    if allow_private:
        return
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise DeliveryError(f"bad port in URL: {_redact(url)}", temporary=False) from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DeliveryError(f"cannot resolve {host}: {exc}", temporary=True) from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not is_public(address):
            raise DeliveryError(
                f"refused: {host} resolves to non-public address {address}", temporary=False
            )


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses (IPv4-mapped IPv6 judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _redact(url: str) -> str:
    """Scheme and host only: URLs of webhooks often carry secrets in the path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…"
