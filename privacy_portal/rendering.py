"""Policy Markdown to sanitized HTML with a table of contents.

Python-Markdown renders, its `toc` extension gives every heading a stable anchor, and nh3
(the Rust `ammonia` sanitizer) removes anything that could run: script and style elements,
event-handler attributes, `javascript:` and other non-web URL schemes. The policy is written
by staff, but it is shown to every visitor, so it is treated as untrusted all the same.

Every id in policy HTML starts with `policy-` (a heading's anchor, or an id written in raw
HTML), and in-policy links `#x` point to `#policy-x`: the policy shares the page with the
portal's own elements and the cookie banner's module, and cannot name any of them.
"""

import html
from dataclasses import dataclass, field

import markdown
import nh3
from django.conf import settings

# The only placeholders a policy text may use; they keep the demo policy a template any
# company can publish. Deliberately not the Django template language: policy text never
# executes anything.
PLACEHOLDERS = {
    "{{ company_name }}": lambda: settings.PORTAL_COMPANY_NAME,
    "{{ dpo_email }}": lambda: settings.DPO_EMAIL,
}

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h2", "h3", "h4",
    "h5", "h6", "hr", "ins", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
}  # fmt: skip
HEADINGS = {"h2", "h3", "h4", "h5", "h6"}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
    **{heading: {"id"} for heading in HEADINGS},
}
URL_SCHEMES = {"http", "https", "mailto"}
ID_PREFIX = "policy-"


@dataclass(frozen=True)
class TocEntry:
    id: str
    title: str
    children: list["TocEntry"] = field(default_factory=list)


@dataclass(frozen=True)
class RenderedPolicy:
    html: str
    toc: list[TocEntry]


def fill_placeholders(text: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value())
    return text


def policy_id(value: str) -> str:
    """The id an anchor of the policy gets on the page: its own, prefixed, always (an id
    written as `policy-x` becomes `policy-policy-x`: one rule, no exceptions to forge)."""
    return ID_PREFIX + value


def _attribute(element: str, attribute: str, value: str) -> str:
    """nh3's attribute filter: ids prefixed, fragment links to them prefixed alike."""
    if attribute == "id":
        return policy_id(value)
    if attribute == "href" and value.startswith("#") and len(value) > 1:
        return "#" + policy_id(value[1:])
    return value


def _toc_entries(tokens: list[dict]) -> list[TocEntry]:
    # Python-Markdown gives the heading text HTML-escaped; unescape it so the template's
    # own autoescaping is the one and only escaping step.
    return [
        TocEntry(
            id=policy_id(token["id"]),
            title=html.unescape(token["name"]),
            children=_toc_entries(token["children"]),
        )
        for token in tokens
    ]


def render_policy(markdown_text: str) -> RenderedPolicy:
    """Render a policy body: placeholders, Markdown, sanitizing, table of contents.

    Sections are `##` headings; the page owns the only <h1>, so a `#` heading in the body
    loses its tag (its text stays).
    """
    converter = markdown.Markdown(
        extensions=["toc", "tables", "sane_lists"],
        extension_configs={"toc": {"toc_depth": "2-3"}},
        output_format="html",
    )
    raw_html = converter.convert(fill_placeholders(markdown_text))
    clean_html = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return RenderedPolicy(html=clean_html, toc=_toc_entries(converter.toc_tokens))
