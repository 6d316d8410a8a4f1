"""Refuse webhook URLs that point inside the network (SSRF), unless allow-listed.

Checked when an endpoint is saved and again before every send (the DNS answer may change).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

# Addresses of cloud metadata services that are not covered by the private/link-local flags.
METADATA_ADDRESSES = {ipaddress.ip_address("fd00:ec2::254"),
                      ipaddress.ip_address("100.100.100.200")}


class UnsafeURL(ValueError):
    """The URL may not be used for webhooks; the message says why."""


def check_url(url: str, allowed: Iterable[str] = (), *, resolve: bool = True) -> None:
    """Raise :class:`UnsafeURL` unless ``url`` is http(s) to a public address or allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("webhook URLs must use http or https")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeURL("the URL has no host")
    allowed = [entry.lower() for entry in allowed]
    if host in allowed:
        return
    for address in _addresses(host, parts.port, resolve):
        if _allowed_address(address, allowed):
            continue
        if _internal(address):
            raise UnsafeURL(f"{host} resolves to {address}, an internal address; add it to "
                            "VIDEOGEN['WEBHOOKS']['ALLOWED_HOSTS'] to allow it")


def _addresses(host: str, port: int | None, resolve: bool) -> list[ipaddress._BaseAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    if not resolve:
        return []
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise UnsafeURL(f"{host} does not resolve ({error.strerror})") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def _literal(host: str) -> ipaddress._BaseAddress | None:
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


def _internal(address: ipaddress._BaseAddress) -> bool:
    # IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo) are judged by that address.
    teredo = getattr(address, "teredo", None)
    for embedded in (getattr(address, "ipv4_mapped", None), getattr(address, "sixtofour", None),
                     teredo[1] if teredo else None):
        if embedded is not None and _internal(embedded):
            return True
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified
            or address in METADATA_ADDRESSES or address in ipaddress.ip_network("100.64.0.0/10"))


def _allowed_address(address: ipaddress._BaseAddress, allowed: list[str]) -> bool:
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name, matched before resolving
    return False
