"""The consent app dropped into another project: add it to INSTALLED_APPS, include its
urls, put {% consent_banner %} in a template — and it works, without this portal."""

import json
import os
import subprocess
import sys

from tests.conftest import BASE_DIR

SCRIPT = """
import json
import django
django.setup()
from django.core.management import call_command
from django.core.checks import run_checks
from django.test import Client
call_command("migrate", verbosity=0)
client = Client()
page = client.get("/").content.decode()
decision = client.post("/consent/", {"action": "reject_all", "scope": "prompt", "next": "/"})
after = client.get("/").content.decode()
from consent.models import ConsentRecord
record = ConsentRecord.objects.get()
print(json.dumps({
    "banner_shown": 'data-consent-banner>' in page or 'data-consent-banner >' in page,
    "stylesheet": '<link rel="stylesheet" href="/static/consent/consent.css">' in page,
    "inline_style": "<style" in page,
    "warnings": [m.id for m in run_checks() if m.id.startswith("consent.")],
    "decision": decision.status_code,
    "hidden_after": 'data-consent-banner hidden' in after,
    "action": record.action,
    "policy_version": record.policy_version,
    "cookies_page": client.get("/cookies/").status_code,
    "receipt": client.get("/consent/receipt/").status_code,
}))
"""


def test_consent_app_works_in_another_project():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "tests.consent.reuse.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {
        "banner_shown": True,
        "stylesheet": True,
        "inline_style": False,
        "warnings": [],
        "decision": 303,
        "hidden_after": True,
        "action": "reject_all",
        "policy_version": None,
        "cookies_page": 200,
        "receipt": 200,
    }
