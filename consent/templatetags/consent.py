"""Template tags: `{% consent_banner %}` on every page, `{% consent_script %}` to gate a
third-party script by category."""

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join

from ..banner import banner_css, banner_for, ga_config

register = template.Library()


@register.simple_tag(takes_context=True)
def consent_banner(context) -> str:
    """The banner (shown until a decision exists), its styles, its module, and the Google
    Analytics loader when — and only when — analytics consent exists."""
    request = context["request"]
    banner = banner_for(request)
    state = banner.state
    config = {
        "state": banner.effective_states,
        "prompt": banner.prompt.needed,
        "gpc": banner.gpc,
        "gpcRecorded": bool(state and state.gpc),
        "ga": ga_config(state),
    }
    return render_to_string(
        "consent/_banner_assets.html",
        {
            **banner.context(request),
            "consent_config": config,
            "css": banner_css(),
            # Reading the lazy nonce generates it, so the CSP header carries it too.
            "nonce": str(context["csp_nonce"]) if context.get("csp_nonce") is not None else "",
        },
        request,
    )


@register.simple_tag(takes_context=True)
def consent_script(context, category: str, src: str, **attrs) -> str:
    """A third-party script that runs only with consent for `category`: rendered live when
    consent exists, otherwise inert (`type="text/plain"`) until the module activates it."""
    banner = banner_for(context["request"])
    extra = format_html_join("", ' {}="{}"', attrs.items())
    if banner.granted(category):
        return format_html('<script src="{}" data-category="{}"{}></script>', src, category, extra)
    return format_html(
        '<script type="text/plain" data-category="{}" data-src="{}"{}></script>',
        category,
        src,
        extra,
    )
