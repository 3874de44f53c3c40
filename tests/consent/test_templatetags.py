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
