"""Template tags: `{% consent_banner %}` on every page, `{% consent_script %}` to gate a
third-party script by category."""

from django import template
from django.utils.html import format_html, format_html_join

from ..banner import banner_assets_html, banner_for

register = template.Library()


@register.simple_tag(takes_context=True)
def consent_banner(context) -> str:
    """The banner (shown until a decision exists), its stylesheet, its module, and the
    Google Analytics loader when — and only when — analytics consent exists."""
    return banner_assets_html(context["request"])


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
