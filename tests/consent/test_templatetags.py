import pytest
from django.template import Context, Template
from django.test import RequestFactory

from tests.consent.conftest import decide

pytestmark = pytest.mark.django_db

TEMPLATE = Template(
    '{% load consent %}{% consent_script "marketing" "https://ads.example/tag.js" async="" %}'
)


def _render(cookies: dict) -> str:
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies)
    return TEMPLATE.render(Context({"request": request}))


def test_gated_script_is_inert_without_consent(demo_policy):
    html = _render({})

    assert html == (
        '<script type="text/plain" data-category="marketing" '
        'data-src="https://ads.example/tag.js" async=""></script>'
    )


def test_gated_script_runs_with_consent(client, demo_policy):
    decide(client, action="accept_all")

    html = _render({"portal_consent": client.cookies["portal_consent"].value})

    assert (
        html
        == '<script src="https://ads.example/tag.js" data-category="marketing" async=""></script>'
    )


def test_gated_script_stays_inert_after_refusal(client, demo_policy):
    decide(client, action="reject_all")

    html = _render({"portal_consent": client.cookies["portal_consent"].value})

    assert 'type="text/plain"' in html


def test_gated_script_without_extra_attributes(demo_policy):
    template = Template(
        '{% load consent %}{% consent_script "analytics" "https://x.example/a.js" %}'
    )

    html = template.render(Context({"request": RequestFactory().get("/")}))

    assert html == (
        '<script type="text/plain" data-category="analytics" data-src="https://x.example/a.js">'
        "</script>"
    )


def test_gpc_keeps_marketing_scripts_inert_after_an_earlier_accept(client, demo_policy):
    decide(client, action="accept_all")
    cookie = client.cookies["portal_consent"].value
    request = RequestFactory().get("/", headers={"Sec-GPC": "1"})
    request.COOKIES["portal_consent"] = cookie

    html = TEMPLATE.render(Context({"request": request}))
    page = client.get("/privacy/", headers={"Sec-GPC": "1"}).content.decode()

    assert 'type="text/plain"' in html
    config = page.split('data-consent-config type="application/json">', 1)[1].split("<", 1)[0]
    assert '"marketing": false' in config
    assert '"analytics": true' in config
