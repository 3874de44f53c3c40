"""System checks for the personal-data registry."""

from django.conf import settings
from django.core.checks import Error, register

from .registry import retention_rules


@register()
def check_retention_months(app_configs, **kwargs) -> list[Error]:
    """A mistyped rule in RETENTION_MONTHS would leave its records kept for the default
    period while the operator believes otherwise; a period under a month is refused too."""
    known = {rule.key for rule in retention_rules() if rule.default is not None}
    errors = []
    for key, months in getattr(settings, "RETENTION_MONTHS", {}).items():
        if key not in known:
            errors.append(
                Error(
                    f"RETENTION_MONTHS names {key!r}, which is no retention rule with a period.",
                    hint=f"Use one of: {', '.join(sorted(known))}.",
                    id="requests_app.E001",
                )
            )
        elif months < 1:
            errors.append(
                Error(
                    f"RETENTION_MONTHS gives {key!r} {months} months.",
                    hint="A retention period in RETENTION_MONTHS is at least one month.",
                    id="requests_app.E002",
                )
            )
    return errors
