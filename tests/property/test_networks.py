"""Properties of allowed client networks (iiniit_auth.networks): no database."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iiniit_auth import keys, networks


def ipv4_mapped(address):
    return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)


#: Addresses of every kind a client may show: IPv4, IPv6, and IPv4 seen through IPv6.
addresses = st.one_of(
    st.ip_addresses(v=4),
    st.ip_addresses(v=6),
    st.ip_addresses(v=4).map(ipv4_mapped),
)


@st.composite
def networks_around(draw, address=None):
    """A network, often one holding ``address`` (or a drawn one), of any prefix length."""
    address = address if address is not None else draw(addresses)
    prefix = draw(st.integers(0, address.max_prefixlen))
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def spellings(network):
    """Ways people write ``network``: short, long, upper case, a bare address, with spaces."""
    address = network.network_address
    written = [str(network), network.compressed, network.exploded, network.exploded.upper()]
    if network.prefixlen == network.max_prefixlen:
        written.append(str(address))
    if network.version == 6 and address.ipv4_mapped is not None:
        written += [
            f"::ffff:{address.ipv4_mapped}/{network.prefixlen}",
            f"0:0:0:0:0:FFFF:{address.ipv4_mapped}/{network.prefixlen}",
        ]
    return st.sampled_from(written).flatmap(
        lambda text: st.builds(
            "{}{}{}".format, st.sampled_from(["", " "]), st.just(text), st.sampled_from(["", "\n"])
        )
    )


network_texts = networks_around().flatmap(spellings)


def reference_allows(entries, address):
    """allows() as the guide describes it, on ipaddress alone: any network holding the address,
    an IPv4 client seen through IPv6 taken as its IPv4 address; an empty list allows all."""
    if not entries:
        return True
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(entry.strip()) for entry in entries)


@given(st.lists(network_texts, max_size=6))
def test_normalize_is_idempotent(entries):
    once = networks.normalize(entries)
    assert networks.normalize(once) == once
    assert networks.normalize(" ".join(once)) == once
    assert networks.normalize(",".join(entries)) == once


@given(st.lists(network_texts, max_size=6))
def test_normalize_keeps_each_network_once_in_order(entries):
    parsed = [ipaddress.ip_network(entry.strip()) for entry in entries]
    assert [ipaddress.ip_network(text) for text in networks.normalize(entries)] == list(
        dict.fromkeys(parsed)
    )


@given(networks_around().flatmap(lambda net: st.tuples(st.just(net), spellings(net))))
def test_every_spelling_of_a_network_has_one_canonical_text(pair):
    network, text = pair
    (canonical,) = networks.normalize([text])
    assert canonical == networks.canonical(network)
    assert canonical == canonical.strip().lower()
    assert ipaddress.ip_network(canonical) == network
    mapped = getattr(network.network_address, "ipv4_mapped", None)
    if mapped is not None:
        # The IPv4 part with dots, whatever the Python.
        assert canonical == f"::ffff:{mapped}/{network.prefixlen}"
    else:
        assert canonical == network.compressed


@given(addresses, st.data())
def test_allows_is_membership_by_ipaddress(address, data):
    # Networks holding the address or not, of either version, in any order.
    near_or_far = st.one_of(networks_around(address), networks_around())
    nets = data.draw(st.lists(near_or_far, max_size=4), label="networks")
    entries = [str(net) for net in nets]
    expected = reference_allows(entries, str(address))
    assert networks.allows(entries, str(address)) is expected
    # Normalized, the same list means the same.
    assert networks.allows(networks.normalize(entries), str(address)) is expected
    assert networks.allows(iter(entries), address.exploded) is expected


@given(st.lists(networks_around(), max_size=3), st.one_of(st.none(), st.text(max_size=45)))
def test_allows_refuses_what_is_not_an_address(nets, text):
    # Never an exception: a non-empty list refuses anything that is not an address.
    entries = [str(net) for net in nets]
    try:
        ipaddress.ip_address(text)
    except ValueError:
        assert networks.allows(entries, text) is (not entries)
    else:
        assert networks.allows(entries, text) is reference_allows(entries, text)


#: The longest text of a network; longer text cannot be a mistyped one.
LONGEST = len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128")
#: What networks are written with.
NETWORK_CHARACTERS = set("0123456789abcdefABCDEF.:/")
entries = st.one_of(
    st.text(max_size=LONGEST + 10),
    st.text(min_size=17, max_size=LONGEST + 20),
    st.text("0123456789abcdef.:/x", min_size=17, max_size=LONGEST + 4),
    st.from_regex(keys.KEY_SHAPED, fullmatch=True),  # a key pasted into the wrong field
)


@given(entries)
def test_parse_network_returns_a_network_or_raises_value_error(text):
    cleaned = text.strip()
    try:
        network = networks.parse_network(text)
    except ValueError as exc:
        message = str(exc)
        mistyped = len(cleaned) <= LONGEST and set(cleaned) <= NETWORK_CHARACTERS
        if len(cleaned) > 16 and not mistyped:
            # It may be a key pasted into the wrong field: a fixed message, naming nothing.
            assert message.startswith(("The entry given is not a network", "A network cannot"))
    else:
        assert "%" not in cleaned
        assert network == ipaddress.ip_network(cleaned)


@given(addresses, st.data())
def test_a_network_with_host_bits_set_is_refused(address, data):
    # 10.0.0.1/8 is most likely a typo: refused, never guessed.
    prefix = data.draw(st.integers(0, address.max_prefixlen))
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    text = f"{address}/{prefix}"
    if network.network_address == address:
        assert networks.parse_network(text) == network
    else:
        with pytest.raises(ValueError, match="host bits set"):
            networks.parse_network(text)
