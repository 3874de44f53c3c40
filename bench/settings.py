"""Settings for the benchmarks: the project's own, plus one bare reference view."""

from privacy_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
