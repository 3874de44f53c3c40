"""The project's settings without the middleware that lets consented visitors reach Google
(see test_security.py: the check must flag it when analytics is configured)."""

from privacy_portal.settings import *  # noqa: F403
from privacy_portal.settings import MIDDLEWARE

MIDDLEWARE = [name for name in MIDDLEWARE if name != "consent.csp.AnalyticsCspMiddleware"]
