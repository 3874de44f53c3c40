"""Fuzzing every public URL and form (issue 7, part 4).

Generated requests (tests/fuzz_strategies.py) go to every public, non-admin URL pattern the
resolver knows, so a new public URL is fuzzed without touching this file. Half of them are
hostile (garbage bodies, methods, headers, cookies, path parameters), half near-valid (a
live link, a well-formed form with a few fields of garbage) so that garbage also reaches
the services. Each kind of forged token and consent cookie (wrong key, expired, tampered,
signed but unreadable...) is a test parameter of its own, so every run tries each one.

For every example: no 5xx and no exception; a 4xx answer has stored nothing (every table's
rows are compared before and after); any method other than GET, HEAD and POST gets 405.

The run is reproducible and bounded: a fixed seed (FUZZ_SEED), no example database, and
FUZZ_MAX_EXAMPLES examples per URL pattern (default 10; search longer locally with e.g.
FUZZ_MAX_EXAMPLES=200 FUZZ_SEED=3). Each example runs in a savepoint that is rolled back,
so examples are independent and a successful one leaves nothing for the next.
"""

import datetime
import hashlib
import os
import re
import string
from dataclasses import dataclass, replace
from http import HTTPStatus
from urllib.parse import unquote_to_bytes

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consent import cookies as consent_cookies
from consent import preferences as marketing
from consent import registration as flow
from consent.configuration import configuration_current, configuration_invalidate
from consent.marketing import MarketingPurpose
from consent.models import ConsentRecord
from consent.registration_forms import INTERESTS
from privacy_portal.demo import demo_policy_load
from privacy_portal.roles import roles_sync
from requests_app import tokens
from requests_app.models import DataSubjectRequest
from requests_app.services import (
    request_download_url,
    request_export_build,
    request_submit,
    request_verify,
)
from tests.fuzz_strategies import (
    SIGNED_KINDS,
    FuzzRequest,
    bodies,
    content_length,
    garbage_segment,
    header_text,
    headers,
    huge_text,
    plausible_bodies,
    signed_variants,
    version_number,
)
from tests.helpers import ALICE, BOB

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
SEED = int(os.environ.get("FUZZ_SEED", "20260407"))
FUZZ_SETTINGS = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    # The fixtures (live objects, the clients) are built once per module; each example runs
    # in its own rolled-back savepoint with the caches cleared, so sharing them is safe.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
PUBLIC_METHODS = {"GET", "HEAD", "POST"}
# Every other method gets a 405, except where no view answers (None: a 404) and from
# Django's set_language, which changes nothing unless POSTed and otherwise only redirects.
ANY_METHOD_VIEWS = {None, "set_language"}
METHODS = ["GET", "GET", "HEAD", "POST", "POST", "POST", "POST", "PUT", "DELETE", "PATCH",
           "OPTIONS", "TRACE", "FUZZ"]  # fmt: skip


# --- The public URL patterns, from the resolver ----------------------------------------------

PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name"
    template: str  # "requests/verify/<str:token>/"

    @property
    def parameters(self) -> dict[str, str]:
        return {m["name"]: m["converter"] or "str" for m in PARAMETER.finditer(self.template)}


def public_routes() -> list[Route]:
    """Every URL pattern outside the admin, with its full route and namespaced name."""
    found = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                name = ":".join(filter(None, [namespace, pattern.name])) or route
                found.append(Route(key=name, template=route))

    walk(get_resolver().url_patterns, "", "")
    return sorted(
        (route for route in found if not route.template.startswith("admin/")),
        key=lambda route: route.key,
    )


PUBLIC_ROUTES = public_routes()

# How each kind of path parameter is filled: by converter, or for mailed links by salt.
TOKEN_SALTS = {
    "requests_app:request-verify": tokens.VERIFY,
    "requests_app:request-status": tokens.STATUS,
    "requests_app:request-download": tokens.DOWNLOAD,
    "registration:confirm": flow.CONFIRM,
    "registration:own-consent": flow.OWN_CONSENT,
    "registration:parental-manage": flow.MANAGE,
    "registration:parental-consent": flow.PARENT,
    "preferences:centre": marketing.PREFERENCES_LINK,
    "preferences:unsubscribe": marketing.UNSUBSCRIBE_LINK,
}
CONVERTERS = {"version": version_number}


# --- Live objects for the mailed links ----------------------------------------------------------


@dataclass
class World:
    tokens: dict[str, str]  # route key -> a live token for it
    consent_cookie: str
    screened_session: str
    csrf_secret: str
    plausible: dict[str, list[str]]


def _token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def clients() -> dict[bool, Client]:
    """One client without and one with CSRF checks, shared by every example: a new client
    loads the middleware again (WhiteNoise scans every static file), which would cost more
    than the examples themselves."""
    return {False: Client(), True: Client(enforce_csrf_checks=True)}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, clients, tmp_path_factory) -> World:
    """Built once for the module, in a transaction rolled back at its end (each test, and
    each example, runs in a savepoint inside it)."""
    exports = tmp_path_factory.mktemp("exports")
    with (
        django_db_blocker.unblock(),
        override_settings(EXPORT_ROOT=exports),
        transaction.atomic(),
    ):
        demo_policy_load()
        dpo = User.objects.create_user("fuzz-dpo", "fuzz-dpo@example.com", is_staff=True)
        dpo.groups.add(roles_sync()["DPO"])
        yield _world_build(dpo=dpo, client=clients[False])
        transaction.set_rollback(True)


def _world_build(*, dpo: User, client: Client) -> World:
    """One live object behind every kind of mailed link, a real consent cookie, and a
    session screened as a child's, as the portal makes them."""
    today = timezone.localdate()
    unverified = request_submit(kind="access", name="Alice", email=ALICE)
    verified = request_verify(request=request_submit(kind="erasure", name="Bob", email=BOB))
    verified = request_export_build(request=verified, by=dpo)
    adult = flow.registration_submit(
        name="Kim Lee",
        email="kim@example.org",
        country="FR",
        interests=["products"],
        marketing_choices={purpose.value: True for purpose in MarketingPurpose},
        language="en",
    )

    def child(first_name: str, born: int):
        return flow.parental_consent_request(
            screen=flow.Screen(child=True, first_name=first_name, country="DE", birth_year=born),
            parent_email=f"parent.of.{first_name.lower()}@example.org",
            language="en",
        )

    waiting = child("Max", today.year - 12)
    consented = flow.parental_consent_decide(
        registration=child("Mia", today.year - 12), consents=True, is_guardian=True
    )
    grown_up = flow.parental_consent_decide(
        registration=child("Ben", today.year - 18), consents=True, is_guardian=True
    )
    flow.registrations_coming_of_age()
    grown_up.refresh_from_db()
    preference = marketing.preference_for("kim@example.org")

    live = {
        "requests_app:request-verify": tokens.token_make(tokens.VERIFY, unverified.pk),
        "requests_app:request-status": tokens.token_make(tokens.STATUS, verified.pk),
        "requests_app:request-download": _token_of(request_download_url(verified)),
        "registration:confirm": _token_of(flow.registration_link(flow.CONFIRM, adult)),
        "registration:own-consent": _token_of(flow.registration_link(flow.OWN_CONSENT, grown_up)),
        "registration:parental-manage": _token_of(flow.registration_link(flow.MANAGE, consented)),
        "registration:parental-consent": _token_of(flow.registration_link(flow.PARENT, waiting)),
        "preferences:centre": _token_of(marketing.preferences_url(preference)),
        "preferences:unsubscribe": _token_of(marketing.unsubscribe_url(preference, "email")),
    }

    client.cookies.clear()
    client.post("/consent/", {"action": "accept_all", "scope": "all", "next": "/"})
    consent_cookie = client.cookies[settings.CONSENT_COOKIE_NAME].value
    client.cookies.clear()

    session = SessionStore()
    session[flow.SCREEN_KEY] = {"first_name": "Max", "country": "DE", "birth_year": today.year - 12}
    session.create()

    csrf_secret = get_random_string(32)
    configuration = configuration_current("en")
    plausible = _plausible_values(
        revision=configuration.revision,
        categories=sorted(configuration.slugs),
        csrf_secret=csrf_secret,
        today=today,
    )
    return World(live, consent_cookie, session.session_key, csrf_secret, plausible)


def _plausible_values(
    *, revision: str, categories: list[str], csrf_secret: str, today: datetime.date
) -> dict[str, list[str]]:
    """Field names of every public form with values that pass (or nearly pass) its
    validation, so generated bodies get past the first check and reach the services."""
    emails = [
        ALICE,
        "kim@example.org",
        "parent.of.max@example.org",
        "a@b",
        "x" * 245 + "@example.org",
        "ä@exämple.org",
        "alice@example.org\x00",
        "alice@example.org\nBcc: victim@example.org",
        "a@[127.0.0.1]",
        '"Alice"@example.org',
        '"a@b"@example.org',
    ]
    dates = [
        (today - datetime.timedelta(days=365 * years)).isoformat() for years in (12, 15, 30, 121)
    ] + ["0001-01-01", "9999-12-31", "2020-02-30", today.isoformat(), "31/01/2000", "-5"]
    names = ["Alice", " ", "A" * 128, "A" * 129, "\u202eKim"]
    ticks = ["on", "off", "true", "false", "0", "1", ""]
    values = {
        "kind": [*DataSubjectRequest.Kind.values, "ACCESS", ""],
        "name": names,
        "email": emails,
        "parent_email": emails,
        "details": ["fix my name", ""],
        "message": ["Hello", ""],
        "website": ["", "http://spam.example"],
        "country": ["DE", "US", "FR", "GB", "XX", "de", ""],
        "date_of_birth": dates,
        "interests": [value for value, _label in INTERESTS] + ["nope"],
        "is_guardian": ticks,
        "decision": ["consent", "decline", "", "CONSENT"],
        "revoke": ["yes", "no", ""],
        "action": [*ConsentRecord.Action.values, "ACCEPT_ALL", ""],
        "categories": [*categories, "nope", ""],
        "scope": ["prompt", "all", "nope", ""],
        "revision": [revision, "", "x" * 17, revision[:-1] + "x"],
        "next": [
            "/privacy/",
            "//evil.example/",
            "https://evil.example/",
            "javascript:alert(1)",
            "/\r\nSet-Cookie: x=1",
            "/%0d%0aSet-Cookie:%20x=1",
            "\\\\evil.example",
            "/ä?x=\x00",
        ],
        "csrfmiddlewaretoken": [csrf_secret, "x" * 32, ""],
    }
    for purpose in MarketingPurpose:
        values[purpose.value] = ticks
        values[f"marketing_{purpose.value}"] = ticks
    return values


# --- What is stored: every table, before and after ----------------------------------------------


def stored_state() -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of all its rows (in primary-key order)."""
    state = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            meta = model._meta
            if not meta.managed or meta.proxy:
                continue
            table = connection.ops.quote_name(meta.db_table)
            pk = connection.ops.quote_name(meta.pk.column)
            cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")  # noqa: S608
            rows = cursor.fetchall()
            digest = hashlib.sha256(repr(rows).encode("utf-8", "surrogatepass")).hexdigest()
            state[meta.db_table] = (len(rows), digest)
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(
        table for table in before.keys() | after.keys() if before.get(table) != after.get(table)
    )


# --- Generated requests --------------------------------------------------------------------------

# Headers a real browser sends that change what the portal does.
HONEST_HEADERS = ["HTTP_SEC_GPC", "HTTP_ACCEPT_LANGUAGE", "HTTP_ACCEPT", "HTTP_X_FORWARDED_FOR"]
TOKEN_ROUTES = [route for route in PUBLIC_ROUTES if route.key in TOKEN_SALTS]
# Forgeries no reader may accept (a forged value of another kind may still hold a valid
# payload: a live one, one signed "in the future", or a reshaped one that kept its shape).
INVALID_KINDS = ["wrong-key", "tampered", "raw-signed", "deep-json", "bad-zlib"]


def _path_parameter(route: Route, name: str, converter: str, world: World, token_kind):
    if name == "token" and route.key in TOKEN_SALTS:
        forged = signed_variants(
            salt=TOKEN_SALTS[route.key], live=world.tokens[route.key], kind=token_kind
        )
        if token_kind:
            return forged
        others = sorted(token for key, token in world.tokens.items() if key != route.key)
        # A live token made for another kind of link, garbage, or a forgery.
        return st.one_of(st.sampled_from(others), garbage_segment, forged)
    return CONVERTERS[converter]


@st.composite
def cookies(draw, world: World, *, consent_kind: str | None = None) -> list[tuple[str, str]]:
    """Cookies as a browser (or an attacker) sends them: the consent cookie forged in some
    way (always, when `consent_kind` is given), the CSRF, session and language cookies
    garbage or live, Google Analytics' cookies, and garbage names."""
    consent_name = settings.CONSENT_COOKIE_NAME
    forged_consent = signed_variants(
        salt=consent_cookies.SALT, live=world.consent_cookie, kind=consent_kind, compress=True
    )
    alphanumeric = string.ascii_letters + string.digits
    by_name = {
        consent_name: st.one_of(forged_consent, header_text, huge_text),
        settings.CSRF_COOKIE_NAME: st.one_of(
            st.just(world.csrf_secret),
            st.text(alphanumeric, min_size=32, max_size=64),
            header_text,
        ),
        settings.SESSION_COOKIE_NAME: st.one_of(
            st.just(world.screened_session),
            st.text(string.ascii_lowercase + string.digits, min_size=8, max_size=40),
            header_text,
            st.just("a" * 5_000),
        ),
        settings.LANGUAGE_COOKIE_NAME: st.one_of(
            st.sampled_from(["de", "en", "xx", "", "../de", "de-DE", "en-" + "x" * 500]),
            header_text,
        ),
        "_ga": header_text,
        "_ga_ABC123": header_text,
    }
    pairs = []
    if consent_kind:
        pairs.append((consent_name, draw(forged_consent)))
    for name in draw(st.lists(st.sampled_from(sorted(by_name)), max_size=4)):
        pairs.append((name, draw(by_name[name])))
    if draw(st.integers(0, 5)) == 0:
        pairs.append((draw(header_text), draw(header_text)))
    return draw(st.permutations(pairs)) if pairs else pairs


@st.composite
def fuzz_requests(
    draw,
    route: Route,
    world: World,
    *,
    token_kind: str | None = None,
    consent_kind: str | None = None,
) -> FuzzRequest:
    """Half hostile (anything goes), half near-valid: a live link, a well-formed form with
    a few fields of garbage, honest headers and no CSRF check, so that garbage also reaches
    the services behind the first checks."""
    near_valid = draw(st.booleans())
    parts, end = [], 0
    for match in PARAMETER.finditer(route.template):
        converter = match["converter"] or "str"
        if near_valid and converter in CONVERTERS:
            value = draw(st.sampled_from(["1", "2"]))
        else:
            kind = token_kind or ("live" if near_valid else None)
            value = draw(_path_parameter(route, match["name"], converter, world, kind))
        parts.append(route.template[end : match.start()] + value)
        end = match.end()
    path = "/" + "".join(parts) + route.template[end:]
    if near_valid:
        return FuzzRequest(
            method=draw(st.sampled_from(["GET", "POST", "POST", "POST"])),
            path=path,
            body=draw(plausible_bodies(world.plausible)),
            headers=draw(headers(names=HONEST_HEADERS)),
            cookies=draw(cookies(world, consent_kind=consent_kind)),
        )
    body = draw(bodies(world.plausible))
    return FuzzRequest(
        method=draw(st.sampled_from(METHODS)),
        path=path,
        query=draw(st.one_of(st.just(""), header_text, st.just("next=//evil.example&next=/"))),
        body=body,
        headers=draw(headers()),
        cookies=draw(cookies(world, consent_kind=consent_kind)),
        content_length=draw(content_length(len(body.data))),
        enforce_csrf=draw(st.integers(0, 3)) == 0,
    )


def _view_name(path: str) -> str | None:
    """The view name `path` resolves to, None if it does not."""
    try:
        return resolve(unquote_to_bytes(path).decode("iso-8859-1")).view_name
    except Resolver404:
        return None


def _assert_answer_is_sound(fuzz: FuzzRequest, response, before: dict) -> None:
    status = response.status_code
    assert status < HTTPStatus.INTERNAL_SERVER_ERROR, f"{status} for {fuzz!r}"
    if status >= HTTPStatus.BAD_REQUEST:
        changed = changed_tables(before, stored_state())
        assert not changed, f"{status} but stored changes in {changed} for {fuzz!r}"
    if fuzz.method not in PUBLIC_METHODS and _view_name(fuzz.path) not in ANY_METHOD_VIEWS:
        allowed = {HTTPStatus.METHOD_NOT_ALLOWED}
        if fuzz.enforce_csrf:
            allowed.add(HTTPStatus.FORBIDDEN)
        if "HTTP_HOST" in fuzz.headers:
            allowed.add(HTTPStatus.BAD_REQUEST)  # a host outside ALLOWED_HOSTS
        assert status in allowed, f"{status} for {fuzz!r}"


def fuzz(
    requests: st.SearchStrategy[FuzzRequest],
    clients: dict[bool, Client],
    check=None,
    *,
    share: float = 1.0,
):
    """Send generated requests, each in a savepoint rolled back afterwards, with empty
    caches (rate limits would otherwise answer 429 before the forms see anything) and 0, 1
    or 2 trusted proxies (so X-Forwarded-For is read); assert every answer is sound, then
    `check(request, response)`. `share`: the part of FUZZ_MAX_EXAMPLES to run."""

    @hypothesis_settings(FUZZ_SETTINGS, max_examples=max(round(MAX_EXAMPLES * share), 1))
    @seed(SEED)
    @given(data=st.data())
    def run(data):
        request = data.draw(requests, label="request")
        proxies = data.draw(st.sampled_from([0, 1, 2]), label="trusted proxies")
        cache.clear()
        configuration_invalidate()
        client = clients[request.enforce_csrf]
        client.cookies.clear()  # only the cookies this example sends
        with transaction.atomic(), override_settings(CONSENT_TRUSTED_PROXIES=proxies):
            before = stored_state()
            response = request.send(client)
            _assert_answer_is_sound(request, response, before)
            if check:
                check(request, response)
            transaction.set_rollback(True)

    run()


# --- The tests -----------------------------------------------------------------------------------


def test_every_public_url_pattern_is_fuzzed(world):
    """The fuzz tests are parametrised from the resolver; this checks they can fill every
    parameter of every public pattern (a new mailed link needs its salt and live object
    here) and that the enumeration still finds the public URLs of the contract."""
    keys = {route.key for route in PUBLIC_ROUTES}
    for path in ["/", "/privacy/", "/privacy/history/", "/privacy/v/1/", "/privacy/v/1/diff/",
                 "/cookies/", "/consent/", "/consent/receipt/", "/requests/new/",
                 "/requests/verify/x/", "/requests/status/x/", "/requests/download/x/",
                 "/register/", "/parental-consent/x/", "/preferences/", "/preferences/x/",
                 "/unsubscribe/x/", "/contact/", "/healthz"]:  # fmt: skip
        assert resolve(path).view_name in keys, path
    for route in PUBLIC_ROUTES:
        for name, converter in route.parameters.items():
            fillable = (name == "token" and route.key in TOKEN_SALTS) or converter in CONVERTERS
            assert fillable, f"the fuzz test cannot fill <{converter}:{name}> of {route.template}"
            if name == "token":
                assert route.key in world.tokens, f"no live token for {route.key}"


@pytest.mark.parametrize("route", PUBLIC_ROUTES, ids=lambda route: route.key)
def test_garbage_gets_no_server_error_and_a_refusal_stores_nothing(route, world, clients):
    fuzz(fuzz_requests(route, world), clients)


@pytest.mark.parametrize("kind", [*SIGNED_KINDS, "garbage"])
def test_forged_link_tokens_get_a_4xx_and_no_server_error(kind, world, clients):
    if kind == "garbage":
        requests = st.sampled_from(TOKEN_ROUTES).flatmap(lambda route: fuzz_requests(route, world))
    else:
        requests = st.sampled_from(TOKEN_ROUTES).flatmap(
            lambda route: fuzz_requests(route, world, token_kind=kind)
        )

    def refused(request, response):
        # 400 for the bad link (403: CSRF, 405: a method the page does not take).
        if kind in INVALID_KINDS and request.method in PUBLIC_METHODS:
            assert response.status_code in {400, 403, 405}, (
                f"{response.status_code} for {request!r}"
            )

    fuzz(requests, clients, refused, share=0.5)


@pytest.mark.parametrize("kind", SIGNED_KINDS)
def test_forged_consent_cookies_get_no_server_error(kind, world, clients):
    requests = st.sampled_from(PUBLIC_ROUTES).flatmap(
        lambda route: fuzz_requests(route, world, consent_kind=kind)
    )
    fuzz(requests, clients, share=0.5)


@pytest.mark.parametrize("kind", INVALID_KINDS)
def test_a_forged_consent_cookie_counts_as_no_decision(kind, world, clients):
    """The receipt exists only for a real decision: a forged cookie is no decision."""
    receipt = Route(key="consent:receipt", template="consent/receipt/")
    requests = fuzz_requests(receipt, world, consent_kind=kind).map(
        lambda request: replace(request, method="GET", cookies=request.cookies[:1], headers={})
    )

    def no_decision(request, response):
        assert response.status_code == HTTPStatus.NOT_FOUND, (
            f"{response.status_code} for {request!r}"
        )

    fuzz(requests, clients, no_decision, share=0.25)
