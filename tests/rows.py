"""What the lookup tests compare: an instance's row, and two instances read alike."""


def row(instance):
    return [getattr(instance, field.attname) for field in instance._meta.concrete_fields]


def assert_same(found, expected):
    assert type(found) is type(expected)
    assert row(found) == row(expected)
    assert [type(value) for value in row(found)] == [type(value) for value in row(expected)]
    assert not found._state.adding
    assert found._state.db == expected._state.db == "default"
