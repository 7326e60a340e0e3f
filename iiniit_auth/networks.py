"""Allowed client networks of a key: parse CIDR lists and test an address. Pure, no ORM."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(value: str) -> Network:
    """Parse ``"10.0.0.0/8"``, ``"2001:db8::/32"`` or a single address into a network.

    Raises ``ValueError`` with a readable message; host bits set (``10.0.0.1/8``) is an error,
    since it usually means a typo.
    """
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a network in CIDR notation: {exc}.") from None


def normalize(values: Iterable[str] | str) -> list[str]:
    """Return the networks in canonical text form, unique, in order given.

    Accepts a list or a string separated by commas, spaces or new lines. Raises ``ValueError``
    naming the first entry that is not a network.
    """
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    out: list[str] = []
    for value in values:
        text = str(parse_network(value))
        if text not in out:
            out.append(text)
    return out


def allows(networks: Iterable[str], address: str | None) -> bool:
    """Return whether ``address`` lies in one of ``networks``. An empty list allows any address."""
    networks = list(networks)
    if not networks:
        return True
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(net) for net in networks)
