"""Swagger UI's pages (iiniit_auth.contrib.swagger_ui) keep the site's
Cross-Origin-Opener-Policy, so the OAuth dialog's popup keeps its opener."""

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from drf_spectacular.settings import patched_settings


@pytest.fixture
def site(db):
    with (
        override_settings(
            INSTALLED_APPS=[
                *django_settings.INSTALLED_APPS,
                "drf_spectacular",
                "drf_spectacular_sidecar",
            ],
            ROOT_URLCONF="tests.openapi.browser_urls",
            # Before drf-spectacular's views are first imported: they bind the schema class then.
            REST_FRAMEWORK={
                **django_settings.REST_FRAMEWORK,
                "DEFAULT_SCHEMA_CLASS": "iiniit_auth.contrib.spectacular.AutoSchema",
            },
        ),
        patched_settings({"SWAGGER_UI_DIST": "SIDECAR"}),
    ):
        yield


def test_the_swagger_page_is_under_the_sites_opener_policy(client, site):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    # drf-spectacular's own page says unsafe-none; the site's (Django's default) is same-origin.
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert b"drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in response.content


def test_the_redirect_page_is_served_by_django_with_swagger_uis_script(client, site):
    response = client.get("/api/docs/oauth2-redirect.html?code=abc&state=xyz")
    assert response.status_code == 200
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert (
        b'<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.js">'
        in response.content
    )


def test_the_redirect_page_follows_a_swagger_ui_dist_url(client, site):
    with patched_settings({"SWAGGER_UI_DIST": "https://assets.example.com/swagger"}):
        response = client.get("/api/docs/oauth2-redirect.html")
    assert b'src="https://assets.example.com/swagger/oauth2-redirect.js"' in response.content
