"""Hypothesis strategies for tests/test_fuzz.py: garbage HTTP requests for the public URLs.

What a hostile or broken client can send: random bytes, invalid UTF-8 (lone surrogates
encoded with `surrogatepass`), huge fields and bodies, repeated keys, wrong or lying
content types and lengths, multipart bodies with broken boundaries, JSON that is garbage
or nested too deep, and cookies and tokens that are garbage, signed with another key,
expired, tampered with, made for another kind of link, or signed with the right key but
holding a payload of the wrong shape (an older or newer format must count as no decision /
an invalid link, never as an error).

A generated request is a `FuzzRequest`; `FuzzRequest.send()` sends it with Django's test
client exactly as built (raw body, raw Cookie header, the Content-Length it claims).
"""

import io
import json
import re
import string
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote, quote_from_bytes

from django.conf import settings
from django.core import signing
from django.test import Client
from hypothesis import strategies as st

# --- Building blocks ---------------------------------------------------------------------------

# Any code point, lone surrogates included (they become invalid UTF-8 when encoded).
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
garbage_bytes = st.binary(max_size=64)
# A latin-1 string: what a WSGI server hands over for any header bytes (CR and LF excluded,
# which no server passes through).
header_text = st.binary(max_size=80).map(
    lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"").decode("latin-1")
)

HUGE_SIZES = [129, 255, 5_001, 70_000]
huge_text = st.builds(
    lambda char, size: char * size, st.sampled_from("xé\x00<%&"), st.sampled_from(HUGE_SIZES)
)

TRICKY_TEXT = [
    "",
    " ",
    "\x00",
    "\u202eevil",  # right-to-left override
    "a\u200bb",  # zero-width space
    "e\u0301" * 50,  # combining accents
    "\ufeff",
    "{{ 7*7 }}",
    "{% debug %}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../../../etc/passwd",
    "%00",
    "%",
    "\\",
    "null",
    "NaN",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "[]",
    "{}",
]
tricky_text = st.sampled_from(TRICKY_TEXT)


def encode_text(text: str) -> bytes:
    """UTF-8, with lone surrogates passed through: the invalid UTF-8 a broken client sends."""
    return text.encode("utf-8", "surrogatepass")


# --- Signed values: forged, expired, tampered, or of the wrong shape ----------------------------

WRONG_KEY = "not-the-portal-secret-key-" + "x" * 40


class _OldSigner(signing.TimestampSigner):
    """Signs with a timestamp about two years old: an expired link or cookie."""

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - 2 * 365 * 24 * 60 * 60)


class _FutureSigner(signing.TimestampSigner):
    """Signs with a timestamp a year ahead (a server clock that was wrong)."""

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) + 365 * 24 * 60 * 60)


def sign_raw(data: bytes, *, salt: str, key: str | None = None, compressed: bool = False) -> str:
    """Sign arbitrary bytes as if they were a serialised payload (the right key by default)."""
    base64d = signing.b64_encode(data).decode()
    if compressed:
        base64d = "." + base64d
    return signing.TimestampSigner(key=key, salt=salt).sign(base64d)


def tampered(draw, value: str) -> str:
    """A valid signed value with one change: a character flipped, cut, or added."""
    if not value:
        return "x"
    how = draw(st.sampled_from(["flip", "cut", "append", "swap-signature", "drop-colon"]))
    position = draw(st.integers(0, len(value) - 1))
    if how == "flip":
        char = value[position]
        replacement = "A" if char != "A" else "B"
        return value[:position] + replacement + value[position + 1 :]
    if how == "cut":
        return value[:position]
    if how == "append":
        return value + draw(st.sampled_from(["A", ":", "=", ".", "%00", "é"]))
    if how == "swap-signature":
        head, _sep, _signature = value.rpartition(":")
        return head + ":" + "A" * 43
    return value.replace(":", "")


# Payload shapes that a signed value of another format or version might hold.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**30, 253402300799, -62135596800]),
    st.floats(allow_nan=False, allow_infinity=False),
    any_text.filter(lambda text: not re.search("[\ud800-\udfff]", text)),
    tricky_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


# A value of the wrong type where a payload holds an id, a reference, a flag or a time.
type_confusions = st.sampled_from(
    ["1", "abc", "", [1], {"a": 1}, None, True, 1.5, 2**70, -(2**70), -1, 0, 253402300799]
)


@st.composite
def reshaped_payload(draw, payload: dict) -> object:
    """A payload like `payload` with some values replaced by others of any type, keys
    dropped or added; sometimes not a dict at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    result = dict(payload)
    keys = st.sampled_from(sorted(payload) or ["x"])
    for key in draw(st.lists(keys, min_size=1, max_size=3, unique=True)):
        if draw(st.integers(0, 3)) == 0:
            result.pop(key, None)
        else:
            result[key] = draw(st.one_of(type_confusions, json_values))
    if draw(st.booleans()):
        result.update(draw(st.dictionaries(st.text(max_size=4), json_values, max_size=3)))
    return result


# How a signed token or cookie can be forged from a live one (each a test parameter, so each
# is tried on every run whatever the number of examples).
SIGNED_KINDS = [
    "live",
    "wrong-key",
    "expired",
    "future",
    "tampered",
    "reshaped",
    "raw-signed",
    "deep-json",
    "bad-zlib",
]


@st.composite
def signed_variants(draw, *, salt: str, live: str, kind: str | None = None, compress=False) -> str:
    """A value for a signed token or cookie: the live one, or one forged from it."""
    payload = signing.loads(live, salt=salt)
    kind = kind or draw(st.sampled_from(SIGNED_KINDS))
    if kind == "live":
        return live
    if kind == "wrong-key":
        return signing.dumps(payload, key=WRONG_KEY, salt=salt, compress=compress)
    if kind == "expired":
        return _OldSigner(salt=salt).sign_object(payload, compress=compress)
    if kind == "future":
        return _FutureSigner(salt=salt).sign_object(payload, compress=compress)
    if kind == "tampered":
        return tampered(draw, live)
    if kind == "reshaped":  # right key, a payload of another format
        return signing.dumps(draw(reshaped_payload(payload)), salt=salt, compress=compress)
    if kind == "raw-signed":  # right key, but not JSON, or not UTF-8
        return sign_raw(draw(garbage_bytes), salt=salt)
    if kind == "deep-json":  # right key, nested deeper than any parser's stack
        return _sign_deep(salt=salt, depth=draw(st.sampled_from([1_000, 20_000])))
    assert kind == "bad-zlib", kind  # right key, "compressed" but not zlib data
    return sign_raw(draw(garbage_bytes), salt=salt, compressed=True)


def _sign_deep(*, salt: str, depth: int) -> str:
    data = b"[" * depth + b"]" * depth
    base64d = "." + signing.b64_encode(zlib.compress(data)).decode()
    return signing.TimestampSigner(salt=salt).sign(base64d)


# --- URL path parameters -------------------------------------------------------------------------


def quoted_segment(text: str) -> str:
    return quote(encode_text(text), safe="")


garbage_segment = st.one_of(
    any_text.filter(bool).map(quoted_segment),
    garbage_bytes.filter(bool).map(lambda raw: quote_from_bytes(raw, safe="")),
    st.sampled_from(["..", ".", "%2F", "%2e%2e", "%00", "%C0%AF", "%ED%A0%80", "%FF", "~"]),
    st.sampled_from([513, 5_000]).map(lambda size: "A" * size),
    st.text(string.ascii_letters + string.digits + "-_:.", min_size=1, max_size=120),
)

version_number = st.one_of(
    st.integers(0, 999_999_999).map(str),
    st.sampled_from(["0", "00", "000000001", "999999999", "2", "1"]),
    st.from_regex(r"\A[0-9]{10,25}\Z"),  # does not match the converter: 404
    garbage_segment,
)


# --- Bodies --------------------------------------------------------------------------------------


@dataclass
class Body:
    data: bytes = b""
    content_type: str | None = None
    description: str = ""


def form_value(plausible: dict[str, list[str]]):
    values = sorted({value for values in plausible.values() for value in values})
    return st.one_of(
        st.sampled_from(values).map(encode_text),
        any_text.map(encode_text),
        garbage_bytes,
        huge_text.map(encode_text),
        tricky_text.map(encode_text),
    )


@st.composite
def form_pairs(draw, plausible: dict[str, list[str]]) -> list[tuple[bytes, bytes]]:
    """Field names of the portal's forms (and garbage names), each maybe repeated, with
    plausible, garbage, huge or invalid-UTF-8 values."""
    names = st.one_of(
        st.sampled_from(sorted(plausible)).map(str.encode), any_text.map(encode_text), garbage_bytes
    )
    pairs = []
    for name in draw(st.lists(names, max_size=12)):
        if name in plausible and draw(st.booleans()):
            value = encode_text(draw(st.sampled_from(plausible[name.decode()])))
        else:
            value = draw(form_value(plausible))
        pairs.append((name, value))
        if draw(st.integers(0, 5)) == 0:  # a repeated key
            pairs.append((name, draw(form_value(plausible))))
    # Often every field of some form with a plausible value, so garbage reaches deep.
    if draw(st.booleans()):
        for name in sorted(plausible):
            if draw(st.booleans()):
                value = draw(st.sampled_from(plausible[name]))
                pairs.append((name.encode(), encode_text(value)))
    return draw(st.permutations(pairs)) if pairs else pairs


def urlencoded(pairs, *, raw: bool) -> bytes:
    if raw:  # unescaped: & = % and bytes where they break the syntax
        return b"&".join(name + b"=" + value for name, value in pairs)
    return b"&".join(
        quote_from_bytes(name, safe="").encode() + b"=" + quote_from_bytes(value, safe="").encode()
        for name, value in pairs
    )


def multipart(pairs, *, boundary: bytes, files: int, close: bool) -> bytes:
    chunks = []
    for name, value in pairs:
        chunks.append(
            b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name + b'"\r\n\r\n'
        )
        chunks.append(value + b"\r\n")
    for number in range(files):
        chunks.append(
            b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file%d"; '
            b'filename="../../x%d.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n'
            % (number, number)
        )
    if close:
        chunks.append(b"--" + boundary + b"--\r\n")
    return b"".join(chunks)


@st.composite
def bodies(draw, plausible: dict[str, list[str]]) -> Body:
    kind = draw(
        st.sampled_from(
            [
                "empty",
                "form",
                "form",
                "form",
                "form-raw",
                "form-too-many-fields",
                "form-too-big",
                "json",
                "json",
                "json-garbage",
                "json-deep",
                "multipart",
                "multipart-broken",
                "multipart-too-many-files",
                "bytes",
            ]
        )
    )
    form = "application/x-www-form-urlencoded"
    if kind == "empty":
        return Body(b"", draw(st.sampled_from([None, form, "application/json"])), kind)
    if kind in {"form", "form-raw"}:
        data = urlencoded(draw(form_pairs(plausible)), raw=kind == "form-raw")
        content_type = draw(
            st.sampled_from(
                [
                    form,
                    form,
                    form + "; charset=utf-8",
                    form + "; charset=utf-16",
                    form + "; charset=no-such-codec",
                    form + "; charset=",
                    "text/plain",
                    "application/json",
                    "",
                ]
            )
        )
        return Body(data, content_type, kind)
    if kind == "form-too-many-fields":
        return Body(b"&".join(b"a%d=1" % n for n in range(1_100)), form, kind)
    if kind == "form-too-big":
        return Body(b"message=" + b"A" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), form, kind)
    if kind == "json":
        names = st.sampled_from(sorted(plausible))
        values = st.one_of(
            st.sampled_from(sorted({v for vs in plausible.values() for v in vs})),
            st.lists(
                st.sampled_from(sorted({v for vs in plausible.values() for v in vs})), max_size=5
            ),
            json_values,
        )
        document = draw(st.one_of(st.dictionaries(names, values, max_size=8), json_values))
        data = json.dumps(document).encode()
        if draw(st.integers(0, 4)) == 0:  # the same key twice, or a byte-order mark
            data = draw(
                st.sampled_from(
                    [b'{"action": "accept_all", "action": [1]}', b"\xef\xbb\xbf" + data]
                )
            )
        content_type = draw(
            st.sampled_from(
                ["application/json", "application/json; charset=utf-16", "text/json", form]
            )
        )
        return Body(data, content_type, kind)
    if kind == "json-garbage":
        data = draw(
            st.one_of(
                garbage_bytes,
                any_text.map(encode_text),
                st.sampled_from(
                    [b"NaN", b"1e99999", b"-", b'{"a":', b"\x00", b'"\xed\xa0\x80"', b"{'a': 1}"]
                ),
            )
        )
        return Body(data, "application/json", kind)
    if kind == "json-deep":
        depth = draw(st.sampled_from([1_000, 2_000]))
        opener = draw(st.sampled_from([b"[", b'{"a":']))
        return Body(opener * depth, "application/json", kind)
    if kind in {"multipart", "multipart-broken", "multipart-too-many-files"}:
        boundary = b"----fuzzBoundary7MA4YWxkTrZu0gW"
        broken = kind == "multipart-broken"
        data = multipart(
            draw(form_pairs(plausible)),
            boundary=boundary,
            files=120 if kind == "multipart-too-many-files" else draw(st.integers(0, 2)),
            close=not broken or draw(st.booleans()),
        )
        header_boundary = boundary.decode()
        if broken:
            how = draw(st.sampled_from(["other", "none", "empty", "long", "odd", "cut"]))
            if how == "other":
                header_boundary = "not-the-boundary"
            elif how == "long":
                header_boundary = "b" * 300
            elif how == "odd":
                header_boundary = draw(header_text)
            elif how == "cut" and data:
                data = data[: draw(st.integers(0, len(data) - 1))]
            if how == "none":
                return Body(data, "multipart/form-data", kind)
            if how == "empty":
                header_boundary = ""
        return Body(data, f"multipart/form-data; boundary={header_boundary}", kind)
    content_type = draw(
        st.sampled_from(
            ["application/octet-stream", "text/plain", "application/xml", "", "image/png", None]
        )
        | header_text
    )
    return Body(draw(garbage_bytes), content_type, kind)


@st.composite
def plausible_bodies(draw, plausible: dict[str, list[str]]) -> Body:
    """Every field of every public form with a plausible value, then a few fields given
    garbage: gets past the first checks, so the garbage reaches validation and services."""
    fields = {name: draw(st.sampled_from(values)) for name, values in plausible.items()}
    for name in draw(st.lists(st.sampled_from(sorted(plausible)), max_size=2, unique=True)):
        fields[name] = draw(st.one_of(any_text, huge_text, tricky_text))
    if draw(st.integers(0, 3)) == 0:  # the module's way: JSON
        data = json.dumps(fields).encode("utf-8", "surrogatepass")
        return Body(data, "application/json", "plausible-json")
    pairs = [(name.encode(), encode_text(value)) for name, value in fields.items()]
    return Body(urlencoded(pairs, raw=False), "application/x-www-form-urlencoded", "plausible")


# --- Headers and cookies -------------------------------------------------------------------------

ACCEPT_LANGUAGE = [
    "de",
    "de-DE,de;q=0.9,en;q=0.8",
    "xx",
    "*",
    "en;q=abc",
    "en;q=1e999",
    ",,,",
    "de-" + "a" * 600,
    "zh-Hant-TW",
    "ÿ",
]
FORWARDED_FOR = [
    "203.0.113.7",
    "2001:db8::1",
    "::ffff:203.0.113.7",
    "203.0.113.7, 198.51.100.1",
    "unknown",
    "",
    ",",
    "999.999.999.999",
    "fe80::1%eth0",
    ", ".join(["10.0.0.1"] * 500),
]


@st.composite
def headers(draw, names: list[str] | None = None) -> dict[str, str]:
    """WSGI environ entries for odd request headers (Content-Length lies are separate),
    among `names` when given."""
    result = {}
    choices = {
        "HTTP_SEC_GPC": st.sampled_from(["1", "0", " 1 ", "true", ""]) | header_text,
        "HTTP_ACCEPT_LANGUAGE": st.sampled_from(ACCEPT_LANGUAGE) | header_text,
        "HTTP_X_FORWARDED_FOR": st.sampled_from(FORWARDED_FOR) | header_text,
        "HTTP_ACCEPT": st.sampled_from(["application/json", "text/html", "*/*", ""]) | header_text,
        "HTTP_USER_AGENT": st.sampled_from(["Mozilla/5.0", "x" * 10_000]) | header_text,
        "HTTP_IF_NONE_MATCH": st.sampled_from(['"abc"', "*", 'W/"x", "y"']) | header_text,
        "HTTP_IF_MODIFIED_SINCE": st.sampled_from(["Thu, 01 Jan 1970 00:00:00 GMT"]) | header_text,
        "HTTP_RANGE": st.sampled_from(["bytes=0-10", "bytes=999999999-", "bytes=-"]) | header_text,
        "HTTP_REFERER": st.sampled_from(["https://evil.example/", "http://testserver/"])
        | header_text,
        "HTTP_ORIGIN": st.sampled_from(["https://evil.example", "null"]) | header_text,
        "HTTP_HOST": st.sampled_from(["evil.example", "testserver:abc", "[::1", "a" * 300])
        | header_text,
        "HTTP_X_CSRFTOKEN": header_text,
        "HTTP_X_REQUESTED_WITH": st.just("XMLHttpRequest"),
    }
    names = sorted(names or choices)
    for name in draw(st.lists(st.sampled_from(names), max_size=5, unique=True)):
        result[name] = draw(choices[name])
    return result


CONTENT_LENGTH_LIES = ["0", "-1", "abc", "1.5", "99999999999999999999", "", " 5", "4097"]


@st.composite
def content_length(draw, actual: int) -> str | None:
    """None: the truth. Otherwise a lie: smaller, larger, negative or not a number."""
    choice = draw(st.integers(0, 3))
    if choice < 2:
        return None
    if choice == 2 and actual:
        return str(draw(st.sampled_from([actual - 1, actual + 1, actual // 2, actual * 10])))
    return draw(st.sampled_from(CONTENT_LENGTH_LIES))


def cookie_header(pairs: list[tuple[str, str]]) -> str:
    """A raw Cookie header: name=value pairs as sent, without quoting or escaping."""
    return "; ".join(f"{name}={value}" for name, value in pairs)


# --- The request -----------------------------------------------------------------------------


@dataclass
class FuzzRequest:
    method: str
    path: str
    query: str = ""
    body: Body = field(default_factory=Body)
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[tuple[str, str]] = field(default_factory=list)
    content_length: str | None = None
    enforce_csrf: bool = False

    def send(self, client: Client):
        """Send the request as built: the raw body, its content type, the Content-Length
        it claims (read from a stream that ends where the body ends, like a socket the
        client closed), and the raw Cookie header."""
        environ = dict(self.headers)
        environ["QUERY_STRING"] = self.query
        environ["wsgi.input"] = io.BytesIO(self.body.data)
        environ["CONTENT_LENGTH"] = (
            self.content_length if self.content_length is not None else str(len(self.body.data))
        )
        if self.body.content_type is not None:
            environ["CONTENT_TYPE"] = self.body.content_type
        if self.cookies:
            environ["HTTP_COOKIE"] = cookie_header(self.cookies)
        return client.generic(self.method, self.path, **environ)

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        data = self.body.data
        shown = data if len(data) <= 400 else data[:400] + b"...(%d bytes)" % len(data)
        shown_headers = {name: value[:200] for name, value in self.headers.items()}
        shown_cookies = [(name, value[:200]) for name, value in self.cookies]
        return (
            f"FuzzRequest({self.method} {self.path[:300]!r} query={self.query[:200]!r} "
            f"body[{self.body.description}]={shown!r} content_type={self.body.content_type!r} "
            f"content_length={self.content_length!r} headers={shown_headers!r} "
            f"cookies={shown_cookies!r} enforce_csrf={self.enforce_csrf})"
        )
