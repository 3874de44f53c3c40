"""Showing a record's values (as the registry gives them: JSON-like) to the DPO."""

from django import template

register = template.Library()


@register.filter
def as_text(value) -> str:
    """Lists one item per line, mappings as 'key: value', nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return "\n".join(as_text(item) for item in value) or "—"
    if isinstance(value, dict):
        return "\n".join(f"{key}: {as_text(item)}" for key, item in value.items()) or "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)
