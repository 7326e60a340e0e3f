"""iiniit_auth.networks: allowed client networks of a key. Pure functions: no database."""

from __future__ import annotations

import ipaddress
import re

import pytest

from iiniit_auth import networks

# -- parse_network -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.0/8", ipaddress.IPv4Network("10.0.0.0/8")),
        ("192.168.1.0/24", ipaddress.IPv4Network("192.168.1.0/24")),
        ("10.0.0.1", ipaddress.IPv4Network("10.0.0.1/32")),
        ("0.0.0.0/0", ipaddress.IPv4Network("0.0.0.0/0")),
        ("2001:db8::/32", ipaddress.IPv6Network("2001:db8::/32")),
        ("2001:DB8:0:0::/32", ipaddress.IPv6Network("2001:db8::/32")),
        ("::1", ipaddress.IPv6Network("::1/128")),
        ("  10.0.0.0/8\n", ipaddress.IPv4Network("10.0.0.0/8")),
    ],
)
def test_parse_network(value, expected):
    parsed = networks.parse_network(value)
    assert parsed == expected
    assert type(parsed) is type(expected)


@pytest.mark.parametrize(
    "value",
    ["10.0.0.1/8", "192.168.1.1/24", "2001:db8::1/32", "nope", "", "10.0.0.0/33", "300.0.0.0/8"],
)
def test_parse_network_refuses_with_the_value_named(value):
    with pytest.raises(ValueError, match=re.escape(repr(value))) as info:
        networks.parse_network(value)
    assert "CIDR" in str(info.value)


def test_host_bits_set_refused():
    # "10.0.0.1/8" is most likely a typo for "10.0.0.1/32" or "10.0.0.0/8": never guess.
    with pytest.raises(ValueError, match=r"'10\.0\.0\.1/8'"):
        networks.parse_network("10.0.0.1/8")


@pytest.mark.parametrize(
    "value",
    [
        # A full key, pasted into the wrong field: a secret, never repeated in an error.
        "iik_4fQx0b7LmZT4MvdebEiC7nn4UnJD9lb6skxh0E000000",
        # A key one character short is still mostly secret.
        "iik_4fQx0b7LmZT4MvdebEiC7nn4UnJD9lb6skxh0E00000",
        "x" * 60,
    ],
    ids=["key", "mangled-key", "overlong"],
)
def test_parse_network_does_not_echo_what_cannot_be_a_network(value):
    with pytest.raises(ValueError, match=r"^The entry given is not a network in CIDR") as info:
        networks.parse_network(value)
    assert value[:20] not in str(info.value)


def test_parse_network_names_a_long_mistyped_ipv6_network():
    value = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/129"
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        networks.parse_network(value)


# -- normalize ---------------------------------------------------------------------------------


def test_normalize_list():
    assert networks.normalize(["10.0.0.0/8", "2001:db8::/32"]) == ["10.0.0.0/8", "2001:db8::/32"]


def test_normalize_separators():
    text = "10.0.0.0/8, 192.168.0.0/16\n2001:db8::/32 ,172.16.0.0/12\r\n\t127.0.0.1"
    assert networks.normalize(text) == [
        "10.0.0.0/8",
        "192.168.0.0/16",
        "2001:db8::/32",
        "172.16.0.0/12",
        "127.0.0.1/32",
    ]


def test_normalize_keeps_order_given():
    assert networks.normalize("192.168.0.0/16 10.0.0.0/8") == ["192.168.0.0/16", "10.0.0.0/8"]


def test_normalize_dedupes():
    assert networks.normalize("10.0.0.0/8, 10.0.0.0/8 192.168.0.0/16,10.0.0.0/8") == [
        "10.0.0.0/8",
        "192.168.0.0/16",
    ]


def test_normalize_dedupes_by_canonical_form():
    assert networks.normalize(
        ["2001:DB8::/32", "2001:0db8:0000::/32", "10.0.0.1", "10.0.0.1/32"]
    ) == [
        "2001:db8::/32",
        "10.0.0.1/32",
    ]


def test_normalize_canonical_form():
    assert networks.normalize(
        ["2001:0DB8:0000:0000::/48", "::FFFF:10.0.0.0/104", " 10.0.0.0/8 "]
    ) == [
        "2001:db8::/48",
        "::ffff:10.0.0.0/104",
        "10.0.0.0/8",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # IPv4-mapped (RFC 4291 section 2.5.5.2): the IPv4 part with dots (RFC 5952 section 5),
        # on every Python, whichever way it was written.
        ("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"),
        ("::ffff:a00:0/104", "::ffff:10.0.0.0/104"),
        ("::FFFF:0A00:0000/104", "::ffff:10.0.0.0/104"),
        ("0:0:0:0:0:ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"),
        ("::ffff:0:0/96", "::ffff:0.0.0.0/96"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4/128"),
        ("::ffff:102:304/128", "::ffff:1.2.3.4/128"),
        # Not IPv4-mapped: hex groups, as every other IPv6 network.
        ("::10.0.0.1", "::a00:1/128"),
        ("::ffff:0:10.0.0.1", "::ffff:0:a00:1/128"),
        ("64:ff9b::10.0.0.0/120", "64:ff9b::a00:0/120"),
        ("::/0", "::/0"),
    ],
)
def test_canonical_form_of_ipv4_mapped_networks(value, expected):
    assert networks.normalize([value]) == [expected]
    assert networks.canonical(networks.parse_network(value)) == expected


def test_either_spelling_of_a_mapped_network_dedupes():
    assert networks.normalize("::ffff:a00:0/104 ::ffff:10.0.0.0/104") == ["::ffff:10.0.0.0/104"]


@pytest.mark.parametrize("address", ["10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "::ffff:a00:1"])
def test_a_mapped_network_stored_in_either_spelling_means_the_same(address):
    # Lists stored before the dotted form was chosen hold the hex groups: allows() reads both.
    assert networks.allows(["::ffff:a00:0/104"], address) is networks.allows(
        ["::ffff:10.0.0.0/104"], address
    )


def test_normalize_empty():
    assert networks.normalize("") == []
    assert networks.normalize(" ,\n, ") == []
    assert networks.normalize([]) == []


def test_normalize_names_the_bad_entry():
    with pytest.raises(ValueError, match=r"'10\.0\.0\.1/8'") as info:
        networks.normalize("10.0.0.0/8, 10.0.0.1/8, 192.168.0.0/16")
    # Only the bad entry is named, not its good neighbours.
    assert "10.0.0.0/8" not in str(info.value)
    assert "192.168" not in str(info.value)


def test_normalize_refuses_garbage_in_list():
    with pytest.raises(ValueError, match=r"'example\.com'"):
        networks.normalize(["10.0.0.0/8", "example.com"])


def test_normalize_does_not_echo_a_pasted_key():
    key = "iik_4fQx0b7LmZT4MvdebEiC7nn4UnJD9lb6skxh0E000000"
    with pytest.raises(ValueError, match="not a network") as info:
        networks.normalize(f"10.0.0.0/8 {key}")
    assert key[4:] not in str(info.value)


# -- allows ------------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["10.0.0.1", "203.0.113.9", "2001:db8::1", None, "", "garbage"])
def test_empty_list_allows_any_address(address):
    assert networks.allows([], address) is True
    assert networks.allows(iter([]), address) is True


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("10.0.0.1", True),
        ("10.255.255.255", True),
        ("11.0.0.0", False),
        ("9.255.255.255", False),
        ("192.168.1.1", False),
    ],
)
def test_ipv4(address, allowed):
    assert networks.allows(["10.0.0.0/8"], address) is allowed


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("2001:db8::1", True),
        ("2001:db8:ffff::1", True),
        ("2001:DB8::1", True),
        ("2001:db9::1", False),
        ("::1", False),
        ("10.0.0.1", False),
    ],
)
def test_ipv6(address, allowed):
    assert networks.allows(["2001:db8::/32"], address) is allowed


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("::ffff:10.0.0.1", True), ("::FFFF:10.1.2.3", True), ("::ffff:11.0.0.1", False)],
)
def test_ipv4_mapped_ipv6(address, allowed):
    # A dual-stack server sees IPv4 clients as ::ffff:a.b.c.d: they belong to the IPv4 network.
    assert networks.allows(["10.0.0.0/8"], address) is allowed


def test_any_of_several_networks():
    allowed = ["192.168.0.0/16", "10.0.0.0/8", "2001:db8::/32"]
    assert networks.allows(allowed, "10.2.3.4") is True
    assert networks.allows(allowed, "192.168.9.9") is True
    assert networks.allows(allowed, "2001:db8::5") is True
    assert networks.allows(allowed, "172.16.0.1") is False


def test_single_address_network():
    assert networks.allows(["203.0.113.7/32"], "203.0.113.7") is True
    assert networks.allows(["203.0.113.7/32"], "203.0.113.8") is False


@pytest.mark.parametrize(
    "address",
    [None, "", "garbage", "10.0.0", "10.0.0.256", "10.0.0.1:8080", "10.0.0.0/8", " 10.0.0.1"],
)
def test_missing_or_garbage_address_refused(address):
    assert networks.allows(["10.0.0.0/8", "0.0.0.0/0", "::/0"], address) is False


def test_allows_accepts_normalized_output():
    assert networks.allows(networks.normalize("10.0.0.0/8, 2001:db8::/32"), "2001:db8::7") is True


@pytest.mark.parametrize("entry", ["fe80::1%eth0", "::1%1/128", "::1%\udcff"])
def test_a_zone_id_is_refused(entry):
    with pytest.raises(ValueError, match="zone id"):
        networks.parse_network(entry)
