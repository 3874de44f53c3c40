"""How many bytes the cookie banner adds to a page, raw, gzip and brotli.

Run: .venv/bin/python bench/banner_weight.py

It renders /privacy/ for a first-time visitor (banner shown, the heaviest case) from a
throw-away SQLite database, with production settings (debug off, collected static files
with hashed names served by WhiteNoise), and measures what the banner adds: the HTML
(markup, configuration) as the difference between the compressed page with and without it,
and its stylesheet and module as served. The page without the banner is the reference
measured in the same run.

It also counts the requests a page view needs beyond the page itself (stylesheets, scripts,
images, icons), with and without the banner, and fetches the module the way a browser does
to show its caching: the banner may add its stylesheet and module, once, and nothing on
later views.
"""

import gzip
import os
import re
import secrets
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent
TARGET_GZIP = 3000
# WhiteNoise's answer for a hashed (versioned) file: ten years, never revalidated.
FAR_FUTURE_SECONDS = 365 * 24 * 60 * 60
PEERS_GZIP = {  # measured on these machines (issue 7), for comparison only
    "vanilla-cookieconsent": 15_500,
    "Osano cookieconsent": 8_100,
    "tarteaucitron": 60_300,
    "klaro": 68_900,
}


def sizes(data: bytes) -> tuple[int, int, int]:
    return len(data), len(gzip.compress(data, 9)), len(brotli.compress(data, quality=11))


class Subresources(HTMLParser):
    """The URLs a browser fetches to show a page: scripts, stylesheets, icons, images,
    frames (data: URLs and inert `type="text/plain"` scripts need no request)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        url = None
        if tag == "script" and attributes.get("type") != "text/plain":
            url = attributes.get("src")
        elif tag == "link" and {"stylesheet", "icon", "modulepreload", "preload"} & set(
            (attributes.get("rel") or "").split()
        ):
            url = attributes.get("href")
        elif tag in {"img", "iframe", "audio", "video", "source", "embed"}:
            url = attributes.get("src")
        if url and not url.startswith("data:"):
            self.urls.append(url)


def subresources(html: str) -> list[str]:
    parser = Subresources()
    parser.feed(html)
    # A stylesheet can fetch more (url(), @import); the banner's inline CSS must not.
    for css in re.findall(r"<style[^>]*>(.*?)</style>", html, re.S):
        parser.urls += [u for u in re.findall(r"url\(['\"]?([^)'\"]+)", css) if "data:" not in u]
        parser.urls += re.findall(r"@import\s+['\"]([^'\"]+)", css)
    return parser.urls


def main() -> int:
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.mkdtemp(prefix="banner-weight-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="privacy_portal.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ENV_FILE=os.devnull,
        DATABASE_URL=f"sqlite:///{workdir}/db.sqlite3",
        DJANGO_STATIC_ROOT=f"{workdir}/static",
        GA_MEASUREMENT_ID="G-BENCH123",
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_BEHIND_TLS_PROXY="false",
        EMAIL_URL="dummymail://",
        DJANGO_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from privacy_portal.demo import demo_policy_load

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    demo_policy_load()
    browser = Client()
    page = browser.get("/privacy/").content.decode()

    style_tag = re.search(r'<link rel="stylesheet" href="([^"]+consent[^"]+)">', page)
    module_tag = re.search(r'<script type="module" src="([^"]+)"></script>', page)
    without = page[: style_tag.start()] + page[module_tag.end() :]
    module = (ROOT / "consent/static/consent/consent.js").read_bytes()
    css = (ROOT / "consent/static/consent/consent.css").read_bytes()

    page_sizes, without_sizes = sizes(page.encode()), sizes(without.encode())
    html_added = tuple(a - b for a, b in zip(page_sizes, without_sizes, strict=True))
    module_sizes, css_sizes = sizes(module), sizes(css)
    total = tuple(sum(t) for t in zip(html_added, css_sizes, module_sizes, strict=True))

    print("What the cookie banner adds to /privacy/ (first visit, banner shown)")
    print(f"{'':34}{'raw':>8}{'gzip':>8}{'brotli':>8}")
    print(f"{'HTML added (markup, config)':34}" + "".join(f"{n:>8}" for n in html_added))
    print(f"{'consent.css (its stylesheet)':34}" + "".join(f"{n:>8}" for n in css_sizes))
    print(f"{'consent.js (the one module)':34}" + "".join(f"{n:>8}" for n in module_sizes))
    print(f"{'total':34}" + "".join(f"{n:>8}" for n in total))
    print(f"{'reference: page without banner':34}" + "".join(f"{n:>8}" for n in without_sizes))
    print(f"banner / page without it (gzip): {total[1] / without_sizes[1]:.2f}")
    verdict = "met" if total[1] < TARGET_GZIP else "MISSED"
    print(f"target: under {TARGET_GZIP} bytes gzip -> {verdict}")
    for peer, peer_gzip in PEERS_GZIP.items():
        print(f"  peer {peer:24} {peer_gzip:>7} bytes gzip ({peer_gzip / total[1]:.1f}x ours)")

    # Requests per page view beyond the page itself, with and without the banner.
    with_banner, without_banner = subresources(page), subresources(without)
    added = [url for url in with_banner if url not in without_banner]

    def cached_forever(url: str) -> tuple[bool, str]:
        served = browser.get(url)
        cache_control = served.headers.get("Cache-Control", "")
        max_age = re.search(r"max-age=(\d+)", cache_control)
        forever = (
            served.status_code == 200
            and "immutable" in cache_control
            and max_age is not None
            and int(max_age.group(1)) >= FAR_FUTURE_SECONDS
        )
        return forever, f"{served.status_code}, Cache-Control: {cache_control}"

    module_forever, module_served = cached_forever(module_tag.group(1))
    css_forever, css_served = cached_forever(style_tag.group(1))
    # The module must not fetch anything more by itself (other modules, data) on a page view.
    module_text = module.decode()
    module_fetches_on_load = bool(re.search(r"^\s*import\b|\bimport\(", module_text, re.M))
    later_views = 0 if module_forever and css_forever else len(added)
    print()
    print("Requests per page view beyond the page itself (first visit, banner shown)")
    print(f"  without the banner: {len(without_banner)}  {' '.join(without_banner)}")
    print(f"  with the banner:    {len(with_banner)}  {' '.join(with_banner)}")
    print(f"  the module as served: {module_served}")
    print(f"  the stylesheet as served: {css_served}")
    print(f"  the module imports or fetches nothing on load: {not module_fetches_on_load}")
    print(
        f"  the banner adds: {len(added)} requests on the first page view (its stylesheet "
        f"and module), {later_views} on every later view (served from the browser's cache, "
        "never revalidated); 0 for its configuration (inline data)"
    )
    requests_ok = len(added) <= 2 and module_forever and css_forever and not module_fetches_on_load
    verdict = "met" if requests_ok else "MISSED"
    print(f"target: no request on a later page view, two cached files on the first -> {verdict}")
    return 0 if total[1] < TARGET_GZIP and requests_ok else 1


if __name__ == "__main__":
    sys.exit(main())
