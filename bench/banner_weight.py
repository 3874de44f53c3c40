"""How many bytes the cookie banner adds to a page, raw, gzip and brotli.

Run: .venv/bin/python bench/banner_weight.py

It renders /privacy/ for a first-time visitor (banner shown, the heaviest case) from a
throw-away SQLite database, and measures what the banner adds: the HTML (markup, inline
CSS, configuration) as the difference between the compressed page with and without it, and
the module as served. The page without the banner is the reference measured in the same run.
"""

import gzip
import os
import re
import sys
import tempfile
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent
TARGET_GZIP = 3000
PEERS_GZIP = {  # measured on these machines (issue 7), for comparison only
    "vanilla-cookieconsent": 15_500,
    "Osano cookieconsent": 8_100,
    "tarteaucitron": 60_300,
    "klaro": 68_900,
}


def sizes(data: bytes) -> tuple[int, int, int]:
    return len(data), len(gzip.compress(data, 9)), len(brotli.compress(data, quality=11))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.mkdtemp(prefix="banner-weight-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="privacy_portal.settings",
        DJANGO_DEBUG="true",
        DJANGO_ENV_FILE=os.devnull,
        DATABASE_URL=f"sqlite:///{workdir}/db.sqlite3",
        GA_MEASUREMENT_ID="G-BENCH123",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from privacy_portal.demo import demo_policy_load

    call_command("migrate", verbosity=0)
    demo_policy_load()
    page = Client().get("/privacy/").content.decode()

    start = page.index("<style nonce=")
    module_tag = re.search(r'<script type="module" src="([^"]+)"></script>', page)
    banner = page[start : module_tag.end()]
    without = page[:start] + page[module_tag.end() :]
    module = (ROOT / "consent/static/consent/consent.js").read_bytes()
    css = re.search(r"<style[^>]*>(.*?)</style>", banner, re.S).group(1).encode()

    page_sizes, without_sizes = sizes(page.encode()), sizes(without.encode())
    html_added = tuple(a - b for a, b in zip(page_sizes, without_sizes, strict=True))
    module_sizes = sizes(module)
    total = tuple(a + b for a, b in zip(html_added, module_sizes, strict=True))

    print("What the cookie banner adds to /privacy/ (first visit, banner shown)")
    print(f"{'':34}{'raw':>8}{'gzip':>8}{'brotli':>8}")
    print(f"{'HTML added (markup, CSS, config)':34}" + "".join(f"{n:>8}" for n in html_added))
    print(f"{'  of which inline CSS, alone':34}" + "".join(f"{n:>8}" for n in sizes(css)))
    print(f"{'consent.js (the one module)':34}" + "".join(f"{n:>8}" for n in module_sizes))
    print(f"{'total':34}" + "".join(f"{n:>8}" for n in total))
    print(f"{'reference: page without banner':34}" + "".join(f"{n:>8}" for n in without_sizes))
    print(f"banner / page without it (gzip): {total[1] / without_sizes[1]:.2f}")
    verdict = "met" if total[1] < TARGET_GZIP else "MISSED"
    print(f"target: under {TARGET_GZIP} bytes gzip -> {verdict}")
    print("extra requests per page view: the module only, on the first view (hashed URL that")
    print("WhiteNoise lets browsers cache forever); none on later views; none for the CSS")
    for peer, peer_gzip in PEERS_GZIP.items():
        print(f"  peer {peer:24} {peer_gzip:>7} bytes gzip ({peer_gzip / total[1]:.1f}x ours)")
    return 0 if total[1] < TARGET_GZIP else 1


if __name__ == "__main__":
    sys.exit(main())
