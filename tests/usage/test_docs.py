"""docs/usage.md's examples, run as written."""

import re
from datetime import timedelta
from pathlib import Path

from django.template import Context, Template

from iiniit_auth import usage
from iiniit_auth.models import Usage

DOC = (Path(__file__).resolve().parents[2] / "docs" / "usage.md").read_text(encoding="utf-8")


def block(language, containing):
    found = [b for b in re.findall(rf"```{language}\n(.*?)```", DOC, re.S) if containing in b]
    assert len(found) == 1, containing
    return found[0]


def test_the_template_tag_example_draws_a_keys_chart(issue):
    key, _ = issue()
    Usage.add("api_key", key.public_id, usage.today(), 4)
    html = Template(block("django", "usage_chart_of")).render(Context({"key": key}))
    assert 'data-count="4"' in html
    assert "<svg" in html


def test_the_pruning_example_deletes_old_rows_only(db):
    today = usage.today()
    Usage.add("api_key", "old", today - timedelta(days=401), 1)
    Usage.add("api_key", "recent", today - timedelta(days=399), 1)
    exec(block("python", "delete()"), {})  # noqa: S102  (the documentation's own code)
    assert list(Usage.objects.values_list("credential_id", flat=True)) == ["recent"]


def test_the_shell_example_calls_what_exists(issue):
    key, _ = issue()
    usage.count(key)
    assert usage.flush("api_key", key.public_id) is None  # prints nothing in a shell
    assert [n for _day, n in usage.daily("api_key", key.public_id, days=3)][-1] == 1
    assert usage.busiest(limit=3) == [("api_key", key.public_id, 1)]
