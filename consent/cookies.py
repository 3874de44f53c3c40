"""The signed consent cookie, and removal of Google Analytics' cookies.

The cookie holds the decision so pages can be rendered right without a database query.
It is signed with the project's secret key: a visitor can delete it, never forge it. Any
cookie that fails verification, is too old or is malformed counts as no decision at all.
"""

import datetime
import re
import time
import uuid
import zlib
from dataclasses import dataclass
from functools import lru_cache

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

from . import conf

SALT = "consent.cookie.v1"
GA_COOKIE = re.compile(r"^_ga(_[A-Za-z0-9]+)?$|^_gid$|^_gat(_.*)?$")
MAX_CATEGORIES = 32


@dataclass(frozen=True)
class ConsentState:
    consent_id: uuid.UUID
    # Decided categories only: slug -> granted. Undecided categories are absent.
    states: dict[str, bool]
    # The fingerprint each decided category had when it was decided.
    fingerprints: dict[str, str]
    revision: str
    policy_version: int | None
    decided_at: datetime.datetime
    gpc: bool = False

    def granted(self, slug: str) -> bool:
        return self.states.get(slug, False)


def _max_age_seconds() -> int:
    return conf.get("CONSENT_MAX_AGE_DAYS") * 24 * 60 * 60


def _is_str_map(value, value_type) -> bool:
    return (
        isinstance(value, dict)
        and len(value) <= MAX_CATEGORIES
        and all(isinstance(k, str) and isinstance(v, value_type) for k, v in value.items())
    )


def consent_cookie_read(request: HttpRequest) -> ConsentState | None:
    """The visitor's decision, or None when there is no valid one (never an error)."""
    if hasattr(request, "_consent_state"):
        return request._consent_state
    state = None
    raw = request.COOKIES.get(conf.get("CONSENT_COOKIE_NAME"))
    if raw and len(raw) < 4096:
        try:
            data = signing.loads(raw, salt=SALT, max_age=_max_age_seconds())
            if (
                isinstance(data, dict)
                and isinstance(data.get("id"), str)
                and _is_str_map(data.get("s"), bool)
                and _is_str_map(data.get("f"), str)
                and isinstance(data.get("r"), str)
                and isinstance(data.get("t"), int)
                and (data.get("p") is None or isinstance(data.get("p"), int))
            ):
                state = ConsentState(
                    consent_id=uuid.UUID(data["id"]),
                    states=data["s"],
                    fingerprints=data["f"],
                    revision=data["r"],
                    policy_version=data["p"],
                    decided_at=datetime.datetime.fromtimestamp(data["t"], tz=datetime.UTC),
                    gpc=bool(data.get("g")),
                )
        # A correctly signed value can still be unreadable (another format, a rotated key's
        # leftovers): bad zlib data, or JSON nested deeper than the parser's stack.
        except (
            signing.BadSignature,
            ValueError,
            TypeError,
            KeyError,
            OverflowError,
            RecursionError,
            zlib.error,
        ):
            state = None
    request._consent_state = state
    return state


def consent_cookie_value(state: ConsentState) -> str:
    payload = {
        "id": state.consent_id.hex,
        "s": state.states,
        "f": state.fingerprints,
        "r": state.revision,
        "p": state.policy_version,
        "t": int(state.decided_at.timestamp()),
    }
    if state.gpc:
        payload["g"] = 1
    return signing.dumps(payload, salt=SALT, compress=True)


@lru_cache(maxsize=4)
def http_date_at(second: int) -> str:
    """http_date(second), formatted once a second rather than on every decision."""
    return http_date(second)


def consent_cookie_set(response: HttpResponse, state: ConsentState) -> None:
    max_age = _max_age_seconds()
    response.set_cookie(
        conf.get("CONSENT_COOKIE_NAME"),
        consent_cookie_value(state),
        max_age=max_age,
        # What set_cookie() would compute from max_age (its own call is the slow path).
        expires=http_date_at(int(time.time()) + max_age),
        secure=conf.cookie_secure(),
        httponly=True,
        samesite="Lax",
    )


def ga_cookies_delete(request: HttpRequest, response: HttpResponse) -> list[str]:
    """Expire the Google Analytics cookies the browser sent (host-only, as the portal's
    gtag configuration sets them); the browser module also clears parent domains."""
    names = [name for name in request.COOKIES if GA_COOKIE.match(name)]
    for name in names:
        response.delete_cookie(name, samesite="Lax")
    return names
