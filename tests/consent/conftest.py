import pytest
from django.test import Client

from consent.configuration import configuration_current


@pytest.fixture
def configuration(db):
    return configuration_current("en")


def decide(client: Client, headers: dict | None = None, **data):
    """Post a decision the way the banner's plain form does (no JavaScript)."""
    data.setdefault("scope", "prompt")
    data.setdefault("next", "/privacy/")
    return client.post("/consent/", data, headers=headers)


def decide_json(client: Client, payload: dict, **headers):
    """Post a decision the way the module does (fetch, JSON)."""
    return client.post(
        "/consent/",
        payload,
        content_type="application/json",
        headers={"Accept": "application/json", **headers},
    )


def banner_shown(html: str) -> bool:
    start = html.index('id="cc"')
    tag = html[start : html.index(">", start)]
    return "hidden" not in tag
