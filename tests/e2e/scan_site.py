"""The portal plus pages that break its cookie declarations (see test_scan_cookies.py): a
cookie nobody declared, set by a response header and by a script file; a declared analytics
cookie set before anyone consented; a tracking pixel from a third party."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csp import csp_override

from privacy_portal.urls import urlpatterns as portal_urlpatterns

TRACKER_HOST = "pixel.tracker.example"


def tracked(request):
    response = HttpResponse(
        '<!doctype html><html lang="en"><title>Tracked</title><h1>Tracked</h1>'
        '<script src="/scan-test/tracker.js"></script>'
    )
    response.set_cookie("scan_header_id", "1", max_age=3600)
    response.set_cookie("_ga", "GA1.1.111.222", max_age=3600)
    return response


def tracker_js(request):
    return HttpResponse(
        'document.cookie = "scan_script_id=1; path=/; max-age=3600";',
        content_type="text/javascript",
    )


# Whoever added the pixel also let it through the page's Content Security Policy.
@csp_override({"img-src": [f"https://{TRACKER_HOST}"]})
def pixel(request):
    return HttpResponse(
        '<!doctype html><html lang="en"><title>Pixel</title><h1>Pixel</h1>'
        f'<img src="https://{TRACKER_HOST}/p.gif" alt="">'
    )


urlpatterns = [
    path("scan-test/tracked/", tracked),
    path("scan-test/tracker.js", tracker_js),
    path("scan-test/pixel/", pixel),
    *portal_urlpatterns,
]
