"""Usage drawn: a key's and an application's admin pages, the overview, the portal's keys."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from iiniit_auth import usage, usage_chart
from iiniit_auth.models import CredentialEvent, Usage

API_KEY = CredentialEvent.Kind.API_KEY
APPLICATION = CredentialEvent.Kind.OAUTH_APPLICATION
BAR = re.compile(r'data-day="([0-9-]+)" data-count="([0-9]+)"')


def bars(html):
    return {day: int(count) for day, count in BAR.findall(html)}


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_a_keys_chart_has_a_bar_a_day_as_tall_as_its_count(issue):
    key, _ = issue()
    today = usage.today()
    Usage.add(API_KEY, key.public_id, today, 40)
    Usage.add(API_KEY, key.public_id, today - timedelta(days=2), 10)
    Usage.add(API_KEY, key.public_id, today - timedelta(days=30), 999)  # out of the chart
    chart = usage_chart.daily_chart(key)
    assert len(chart.bars) == 30
    assert chart.total == 50
    last, two_ago = chart.bars[-1], chart.bars[-3]
    assert (last.day, last.count, two_ago.count) == (today, 40, 10)
    assert last.height == pytest.approx(4 * two_ago.height)
    assert last.label  # today always has its date
    assert "50 requests in the last 30 days" in chart.summary


def test_nothing_is_drawn_for_other_objects(user):
    assert usage_chart.daily_chart(user) is None


def test_key_change_page_draws_its_usage(staff_client, issue):
    key, plaintext = issue()
    Usage.add(API_KEY, key.public_id, usage.today(), 7)
    html = staff_client.get(f"/admin/iiniit_auth/apikey/{key.pk}/change/").content.decode()
    assert '<svg viewBox="0 0 600 120" role="img"' in html
    assert "<title id=" in html
    assert "<desc id=" in html
    assert bars(html)[usage.today().isoformat()] == 7
    assert sum(bars(html).values()) == 7
    assert "7 requests in the last 30 days" in html
    assert plaintext not in html
    assert (
        "<script" not in html.split('class="module iiniit-usage-module"')[1].split("</figure>")[0]
    )


def test_application_change_page_draws_its_tokens_usage(staff_client, oauth_app, oauth_token):
    token, bearer = oauth_token()
    usage.count(token)
    usage.count(token)
    html = staff_client.get(
        f"/admin/oauth2_provider/application/{oauth_app.pk}/change/"
    ).content.decode()
    # Counted in memory (no cache here): pending counts are drawn too.
    assert bars(html)[usage.today().isoformat()] == 2
    assert bearer not in html


def test_overview_draws_the_busiest(staff_client, issue, oauth_app):
    quiet, _ = issue(name="quiet key")
    busy, _ = issue(name="busy key")
    today = usage.today()
    Usage.add(API_KEY, quiet.public_id, today, 3)
    Usage.add(API_KEY, busy.public_id, today, 30)
    Usage.add(APPLICATION, str(oauth_app.pk), today - timedelta(days=1), 12)
    html = staff_client.get("/admin/iiniit_auth/overview/").content.decode()
    figure = html.split('id="iiniit-busiest"')[1].split("</figure>")[0]
    names = re.findall(r'class="iiniit-busiest__name">([^<]+)<', figure)
    assert names == [f"busy key ({busy.public_id})", "Test app", f"quiet key ({quiet.public_id})"]
    counts = re.findall(r'data-count="([0-9]+)"', figure)
    assert counts == ["30", "12", "3"]
    assert f'href="/admin/iiniit_auth/apikey/{busy.pk}/change/"' in figure
    assert "<title id=" in figure
    assert "<desc id=" in figure


def test_overview_busiest_costs_three_queries(rf, staff, issue, oauth_app):
    from django.contrib import admin

    from iiniit_auth.admin.overview import busiest

    for n in range(8):
        key, _ = issue(name=f"key {n}")
        Usage.add(API_KEY, key.public_id, usage.today(), n + 1)
    Usage.add(APPLICATION, str(oauth_app.pk), usage.today(), 100)
    request = rf.get("/")
    request.user = staff
    with CaptureQueriesContext(connection) as queries:
        chart = busiest(admin.site, request)
    assert len(queries) == 3
    assert [row.count for row in chart.rows] == [100, 8, 7, 6, 5]


def test_overview_shows_only_kinds_the_user_may_view(client, issue, oauth_app):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_apikey"))
    client.force_login(viewer)
    key, _ = issue(name="seen key")
    Usage.add(API_KEY, key.public_id, usage.today(), 5)
    Usage.add(APPLICATION, str(oauth_app.pk), usage.today(), 50)
    html = client.get("/admin/iiniit_auth/overview/").content.decode()
    figure = html.split('id="iiniit-busiest"')[1].split("</figure>")[0]
    assert "seen key" in figure
    assert "Test app" not in figure


def test_portal_shows_each_user_their_own_keys_usage(client, user, other_user, issue):
    mine, _ = issue(name="my key")
    theirs, _ = issue(name="their key", owner=other_user)
    Usage.add(API_KEY, mine.public_id, usage.today(), 9)
    Usage.add(API_KEY, theirs.public_id, usage.today(), 90)
    client.force_login(user)
    html = client.get("/developer/").content.decode()
    assert bars(html)[usage.today().isoformat()] == 9
    assert "9 requests in the last 30 days" in html
    assert theirs.public_id not in html
    assert "90 requests" not in html
