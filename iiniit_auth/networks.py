"""Allowed client networks of a key: parse CIDR lists and test an address. Pure, no ORM."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The longest text of a network: IPv6 with an embedded IPv4 address, and a prefix length.
_LONGEST = len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128")
#: The characters networks are written with; a key's body is mostly other letters.
_NETWORK_TEXT = re.compile(r"[0-9A-Fa-f.:/]+")


def parse_network(value: str) -> Network:
    """Parse ``"10.0.0.0/8"``, ``"2001:db8::/32"`` or a single address into a network.

    Raises ``ValueError`` with a readable message; host bits set (``10.0.0.1/8``) is an error,
    since it usually means a typo, and so is an IPv6 zone id (``fe80::1%eth0``). The message
    quotes the entry only when it is short or could be a mistyped network.
    """
    text = value.strip()
    if "%" in text:
        # ipaddress takes a zone id (fe80::1%eth0): it names an interface of this host, not a
        # client network, and would carry any text (undecodable bytes too) into the stored list.
        raise ValueError(
            "A network cannot carry a zone id (the part after %): "
            "give the address or network alone."
        )
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if not _echoable(text):
            # ipaddress's own message quotes the entry too, so it is left out as well.
            raise ValueError(
                "The entry given is not a network in CIDR notation (e.g. 10.0.0.0/8 or "
                "2001:db8::/32); it is not repeated here, as it may be a key."
            ) from None
        raise ValueError(f"{text!r} is not a network in CIDR notation: {exc}.") from None


def _echoable(text: str) -> bool:
    # Echo short input, or what could be a mistyped network: anything else may be a key (or
    # most of one) pasted into the wrong field, and error messages are shown and logged.
    return len(text) <= 16 or (len(text) <= _LONGEST and _NETWORK_TEXT.fullmatch(text) is not None)


def normalize(values: Iterable[str] | str) -> list[str]:
    """Return the networks in canonical text form (:func:`canonical`), unique, in order given.

    Accepts a list or a string separated by commas, spaces or new lines. Raises ``ValueError``
    about the first entry that is not a network (see :func:`parse_network`).
    """
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    out: list[str] = []
    for value in values:
        text = canonical(parse_network(value))
        if text not in out:
            out.append(text)
    return out


def canonical(network: Network) -> str:
    """Return the canonical text of ``network``, the same on every Python.

    IPv4: ``10.0.0.0/8``. IPv6: lower case, the longest run of zero groups shortened to ``::``
    (``2001:db8::/32``); an IPv4-mapped network ends in the IPv4 address written with dots
    (``::ffff:10.0.0.0/104``, not ``::ffff:a00:0/104``). Either spelling of a mapped network
    parses to the same network, so texts stored in the other one keep their meaning.
    """
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            # RFC 5952 section 5 recommends the dotted form for IPv4-mapped addresses. ipaddress
            # writes it so from Python 3.13 only, and the hex groups before: spelled out here.
            return f"::ffff:{mapped}/{network.prefixlen}"
    return str(network)


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
