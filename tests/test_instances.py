"""iiniit_auth.instances: the key and its owner built as ``Model.from_db()`` would build them,
without ``Model.__init__`` where nothing could tell the difference (issue 5)."""

from django.contrib.auth import get_user_model
from django.db import models
from django.test.utils import isolate_apps

from iiniit_auth import instances, lookup
from iiniit_auth.models import APIKey
from tests.orgkeys.models import TeamAPIKey
from tests.rows import row


def built_both_ways(model, attnames, values):
    """The instance instances.instance() builds and the one from_db() builds, for one row."""
    return instances.instance(model, "default", attnames, values), model.from_db(
        "default", attnames, values
    )


def assert_built_alike(fast, slow):
    assert type(fast) is type(slow)
    assert {k: v for k, v in vars(fast).items() if k != "_state"} == {
        k: v for k, v in vars(slow).items() if k != "_state"
    }
    assert (fast._state.adding, fast._state.db) == (slow._state.adding, slow._state.db)
    assert fast.get_deferred_fields() == slow.get_deferred_fields()
    assert fast._state.fields_cache == slow._state.fields_cache == {}


def test_instances_are_built_as_from_db_builds_them(used_key, user):
    for instance in (used_key, user):
        model = type(instance)
        attnames = [field.attname for field in model._meta.concrete_fields]
        fast, slow = built_both_ways(model, attnames, row(instance))
        assert_built_alike(fast, slow)
        assert instances._init_only_sets_fields(model)
    # Some fields left out: deferred, loaded on access, as from_db() leaves them.
    attnames = [f.attname for f in user._meta.concrete_fields if f.attname != "password"]
    values = [getattr(user, name) for name in attnames]
    fast, slow = built_both_ways(type(user), attnames, values)
    assert_built_alike(fast, slow)
    assert fast.get_deferred_fields() == {"password"}
    assert fast.password == user.password  # one query, as for any deferred field
    # A foreign key set on the new instance: the related object is fetched through it.
    fast, _slow = built_both_ways(
        APIKey, [f.attname for f in APIKey._meta.concrete_fields], row(used_key)
    )
    assert fast.created_by == used_key.created_by


def test_instances_of_kept_fields_are_built_as_from_db_builds_them(used_key, user):
    # instances.instance_of_fields(): the same instance, from a mapping of attnames to values.
    for instance, left_out in ((used_key, set()), (user, {"password"})):
        model = type(instance)
        fields = {
            f.attname: getattr(instance, f.attname)
            for f in model._meta.concrete_fields
            if f.attname not in left_out
        }
        fast = instances.instance_of_fields(model, "default", fields)
        slow = model.from_db("default", list(fields), list(fields.values()))
        assert_built_alike(fast, slow)
        assert fast.get_deferred_fields() == left_out


def test_instances_of_kept_fields_get_their_copies_and_signals(used_key):
    from django.db.models.signals import post_init

    fields = {f.attname: getattr(used_key, f.attname) for f in APIKey._meta.concrete_fields}
    copies = (("allowed_networks", list),)
    seen = []

    def on_post_init(sender, instance, **kwargs):
        seen.append(instance.allowed_networks)

    for connected in (False, True):
        if connected:
            post_init.connect(on_post_init, sender=APIKey)
        try:
            built = instances.instance_of_fields(APIKey, "default", fields, copies)
        finally:
            post_init.disconnect(on_post_init, sender=APIKey)
        assert built.allowed_networks == fields["allowed_networks"]
        assert built.allowed_networks is not fields["allowed_networks"]
        assert_built_alike(built, APIKey.from_db("default", list(fields), list(fields.values())))
    assert len(seen) == 1  # from_db() (the receiver) only while one is connected
    assert seen[0] is not fields["allowed_networks"]


def test_a_subclass_with_fields_of_its_own_is_built_alike(user):
    key, _plaintext = TeamAPIKey.objects.issue(owner=user, name="team", team="ops")
    fast, slow = built_both_ways(
        TeamAPIKey, [f.attname for f in TeamAPIKey._meta.concrete_fields], row(key)
    )
    assert_built_alike(fast, slow)
    assert fast.team == "ops"


def test_init_receivers_are_sent_their_signals(used_key):
    from django.db.models.signals import post_init, pre_init

    seen = []

    def on_pre_init(sender, **kwargs):
        seen.append(("pre_init", sender))

    def on_post_init(sender, instance, **kwargs):
        seen.append(("post_init", sender, instance.pk))

    user_model = get_user_model()
    for signal, receiver in ((pre_init, on_pre_init), (post_init, on_post_init)):
        signal.connect(receiver, sender=user_model)
        try:
            found = lookup.find_key(APIKey, used_key.public_id)
        finally:
            signal.disconnect(receiver, sender=user_model)
        assert found.owner.pk == used_key.owner_id
    assert seen == [("pre_init", user_model), ("post_init", user_model, used_key.owner_id)]


@isolate_apps("tests.orgkeys")
def test_a_model_whose_init_does_more_is_built_by_its_init():
    class Marked(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "orgkeys"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.marked = True

    class Loud:
        """A descriptor that does more than store the value."""

        def __set_name__(self, owner, name):
            self.name = name

        def __get__(self, instance, owner=None):
            return self if instance is None else instance.__dict__[self.name]

        def __set__(self, instance, value):
            instance.__dict__[self.name] = value.upper()

    class Shouting(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "orgkeys"

    Shouting.name = Loud()
    Shouting.name.__set_name__(Shouting, "name")

    class Plain(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)
        other = models.ForeignKey("self", null=True, on_delete=models.CASCADE)

        class Meta:
            app_label = "orgkeys"

    assert not instances._init_only_sets_fields(Marked)
    assert instances.instance(Marked, "default", ["id", "name"], [1, "a"]).marked is True
    assert not instances._init_only_sets_fields(Shouting)
    assert instances.instance(Shouting, "default", ["id", "name"], [1, "a"]).name == "A"
    assert instances._init_only_sets_fields(Plain)
    plain = instances.instance(Plain, "default", ["id", "name", "other_id"], [1, "a", None])
    assert (plain.pk, plain.name, plain.other_id, plain._state.adding) == (1, "a", None, False)
