"""The overview: figures from one aggregate query, each linking to the list it counts."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from iiniit_auth.admin import overview
from iiniit_auth.oauth.applications import register_application
from tests.admin.conftest import APP_URL, LIST_URL, OVERVIEW_URL, age


def figures(client):
    response = client.get(OVERVIEW_URL)
    assert response.status_code == 200
    (section,) = [s for s in response.context["sections"] if s.title == "API keys"]
    return {figure.label: figure for figure in section.figures}


@pytest.fixture
def keys(issue):
    now = timezone.now()
    issue(name="active")
    issue(name="expiring", expires_at=now + timedelta(days=2))
    unused, _ = issue(name="unused")
    age(unused, created_at=timedelta(days=100))
    old, _ = issue(name="revoked long ago")
    old.revoke()
    age(old, revoked_at=timedelta(days=40))
    recent, _ = issue(name="revoked")
    recent.revoke()


def test_the_figures_count_active_expiring_unused_and_recently_revoked_keys(admin_client, keys):
    counts = {label: figure.count for label, figure in figures(admin_client).items()}
    assert counts == {
        "Active": 3,
        "Expiring within 7 days": 1,
        "Unused for 90 days": 1,
        "Revoked in the last 30 days": 1,
    }


def test_each_figure_links_to_the_list_of_what_it_counts(admin_client, keys):
    for figure in figures(admin_client).values():
        listed = admin_client.get(figure.url).context["cl"].result_count
        assert listed == figure.count, figure.label


def test_the_overview_costs_the_same_queries_for_5_and_for_50_keys(admin_client, issue):
    User = get_user_model()

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(OVERVIEW_URL).status_code == 200
        return len(queries)

    def add(count, start):
        for n in range(start, start + count):
            owner = User.objects.create_user(f"owner{n}", f"owner{n}@example.com", "pw")
            key, _ = issue(owner=owner, name=f"key {n}")
            if n % 3 == 0:
                key.revoke()
            application, _secret = register_application(
                name=f"app {n}",
                client_type="confidential",
                authorization_grant_type="client-credentials",
                user=owner,
                allowed_scopes=["orders:read"] if n % 2 else [],
            )
            get_access_token_model().objects.create(
                user=owner,
                application=application,
                token=f"token-{n}",
                scope="orders:read",
                expires=timezone.now() + timedelta(hours=n % 2 * 2 - 1),
            )

    add(5, 0)
    five = cost()
    add(45, 5)
    assert cost() == five
    titles = [s.title for s in admin_client.get(OVERVIEW_URL).context["sections"]]
    assert titles == ["API keys", "OAuth applications", "OAuth access tokens"]


def test_the_oauth_counts_come_from_one_aggregate_query_each(admin_client):
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(OVERVIEW_URL)
    sql = [q["sql"] for q in queries]
    on_apps = [q for q in sql if 'FROM "oauth2_provider_application"' in q]
    on_tokens = [q for q in sql if 'FROM "oauth2_provider_accesstoken"' in q]
    assert len(on_apps) == 1
    assert on_apps[0].count("COUNT(") == 2
    assert len(on_tokens) == 1
    assert on_tokens[0].count("COUNT(") == 1


def test_the_counts_and_the_timeline_cost_one_query_each(admin_client, issue):
    for days in (1, 2, 2, 20):
        issue(expires_at=timezone.now() + timedelta(days=days, hours=1))
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(OVERVIEW_URL)
    on_keys = [q["sql"] for q in queries if '"iiniit_auth_apikey"' in q["sql"]]
    assert len(on_keys) == 2
    assert on_keys[0].count("COUNT(") == 4  # the figures
    assert "GROUP BY" in on_keys[1]  # the timeline: keys per day


def test_the_timeline_draws_a_bar_a_day_linking_to_that_days_keys(admin_client, issue):
    soon = timezone.now() + timedelta(days=2, hours=1)
    issue(name="a", expires_at=soon)
    issue(name="b", expires_at=soon)
    issue(name="later", expires_at=timezone.now() + timedelta(days=60))
    response = admin_client.get(OVERVIEW_URL)
    (section,) = [s for s in response.context["sections"] if s.timeline]
    bars = {bar.day: bar for bar in section.timeline.bars}
    day = timezone.localdate(soon)
    assert bars[day].count == 2
    assert sum(bar.count for bar in bars.values()) == 2  # the 60-day key is past the timeline
    assert len(bars) == 31
    html = response.content.decode()
    assert "<svg" in html
    assert "2 keys expire on" in html
    listed = admin_client.get(bars[day].url).context["cl"].result_list
    assert sorted(key.name for key in listed) == ["a", "b"]


def test_the_key_list_links_the_overview(admin_client):
    assert f'href="{OVERVIEW_URL}"' in admin_client.get(LIST_URL).content.decode()


def test_the_app_index_shows_the_overview(admin_client):
    html = admin_client.get(APP_URL).content.decode()
    assert f'data-iiniit-overview="{OVERVIEW_URL}"' in html
    assert "iiniit_auth/admin.js" in html
    assert f'href="{OVERVIEW_URL}"' in html  # without JavaScript, a link to the same figures


def test_the_overview_shows_only_what_the_user_may_see(staff_client, issue):
    issue()
    assert staff_client().get(OVERVIEW_URL).status_code == 403
    assert staff_client("view_credentialevent").get(OVERVIEW_URL).status_code == 403
    viewer = staff_client("view_apikey")
    assert viewer.get(OVERVIEW_URL).status_code == 200
    assert 'id="iiniit-auth-overview"' in viewer.get(OVERVIEW_URL).content.decode()


def test_a_new_section_is_one_more_function(admin_client):
    @overview.section(get_user_model())
    def extra(admin_site, request):
        return overview.Section("OAuth 2.0", [overview.Figure("Applications", 7, "/apps/")])

    try:
        html = admin_client.get(OVERVIEW_URL).content.decode()
    finally:
        del overview.SECTIONS[-1]
    assert "OAuth 2.0" in html
    assert '<span class="iiniit-figure__count">7</span>' in html


def test_the_admin_index_lists_the_overview_without_computing_it(admin_client, issue):
    issue()
    with CaptureQueriesContext(connection) as queries:
        html = admin_client.get("/admin/").content.decode()
    assert f'href="{OVERVIEW_URL}"' in html
    assert not [q for q in queries if "COUNT(" in q["sql"] and "iiniit_auth_apikey" in q["sql"]]


def test_the_admin_index_lists_the_overview_only_to_who_may_see_a_section(staff_client):
    assert OVERVIEW_URL not in staff_client("view_credentialevent").get("/admin/").content.decode()
    assert OVERVIEW_URL in staff_client("view_apikey").get("/admin/").content.decode()
