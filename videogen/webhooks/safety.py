"""Refuse outbound URLs that point inside the network (SSRF), unless allow-listed.

Webhook URLs are checked when an endpoint is saved and again before every send, and the send
then connects to the very address that was checked (:func:`pinned`), so a DNS answer that
changes in between (rebinding) cannot redirect it. The archive checks and pins the provider's
video URL, and every redirect it follows, the same way (its download guard returns
:func:`pinned`'s answer for the client to send to).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit, urlunsplit

from videogen.exceptions import (  # defined there; still importable from here
    Unresolved,
    UnsafeURL,
)

#: What :func:`ipaddress.ip_address` returns.
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Addresses of cloud metadata services that are not covered by the private/link-local flags.
METADATA_ADDRESSES = {ipaddress.ip_address("fd00:ec2::254"),
                      ipaddress.ip_address("100.100.100.200")}


WEBHOOK_HINT = "add it to VIDEOGEN['WEBHOOKS']['ALLOWED_HOSTS'] to allow it"


def check_url(url: str, allowed: Iterable[str] = (), *, resolve: bool = True,
              hint: str = WEBHOOK_HINT) -> None:
    """Raise :class:`UnsafeURL` unless ``url`` is http(s) to a public address or allowed."""
    _vet(url, allowed, resolve, hint)


@dataclass
class Pinned:
    """A request aimed at the checked address: send to ``url`` with these headers and httpx
    request extensions (the original Host header, and the TLS server name for https)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def pinned(url: str, allowed: Iterable[str] = (), *, hint: str = WEBHOOK_HINT) -> Pinned:
    """:func:`check_url`, resolving once, and the request parts that connect to the address
    that passed, so no second lookup decides where the request goes. A host allowed by name
    or written as an address is sent as it is."""
    parts, addresses = _vet(url, allowed, True, hint)
    if not addresses or _literal((parts.hostname or "").lower()) is not None:
        return Pinned(url)
    address = addresses[0]
    netloc = f"[{address}]" if address.version == 6 else str(address)
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    extensions = {"sni_hostname": parts.hostname or ""} if parts.scheme == "https" else {}
    return Pinned(urlunsplit(parts._replace(netloc=netloc)),
                  {"host": parts.netloc.rsplit("@", 1)[-1]}, extensions)


def _vet(url: str, allowed: Iterable[str], resolve: bool, hint: str
         ) -> tuple[SplitResult, list[Address]]:
    """The URL's parts and the addresses that passed (none when allowed by name)."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:  # "http://[x]/", a port above 65535: a plain ValueError was a 500
        raise UnsafeURL("not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("URLs must use http or https")
    if not host:
        raise UnsafeURL("the URL has no host")
    allowed = [entry.lower() for entry in allowed]
    if host in allowed:
        return parts, []
    addresses = _addresses(host, port, resolve)
    for address in addresses:
        if _allowed_address(address, allowed):
            continue
        if _internal(address):
            raise UnsafeURL(f"{host} resolves to {address}, an internal address; {hint}")
    return parts, addresses


def _addresses(host: str, port: int | None, resolve: bool) -> list[Address]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    if not resolve:
        return []
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise Unresolved(f"{host} does not resolve ({error.strerror})") from None
    except UnicodeError:  # a label over 63 characters, or one IDNA cannot encode
        raise UnsafeURL("the host name is not valid") from None
    # (Typed str | int: a sockaddr's host is a str for the IPv4/IPv6 families asked for.)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _literal(host: str) -> Address | None:
    """An address written in the URL: IPv4, [IPv6] (with a zone), and the legacy IPv4 forms
    resolvers and HTTP clients still accept (2130706433, 0x7f.1, 017700000001, 127.1), parsed
    here so that no resolver decides what they mean."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if host and set(host) <= set("0123456789abcdefx."):
        try:
            return ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _internal(address: Address) -> bool:
    # IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo) are judged by that address.
    teredo = getattr(address, "teredo", None)
    for embedded in (getattr(address, "ipv4_mapped", None), getattr(address, "sixtofour", None),
                     teredo[1] if teredo else None):
        if embedded is not None and _internal(embedded):
            return True
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified
            or address in METADATA_ADDRESSES or address in ipaddress.ip_network("100.64.0.0/10"))


def _allowed_address(address: Address, allowed: list[str]) -> bool:
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name, matched before resolving
    return False
