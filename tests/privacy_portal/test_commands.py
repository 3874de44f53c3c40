import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command

from privacy_portal.models import PolicyVersion
from privacy_portal.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def _load_demo(tmp_path) -> str:
    out = StringIO()
    call_command("load_demo", password_file=tmp_path / "pw", stdout=out)
    return out.getvalue()


def test_load_demo_publishes_two_versions_and_prints_a_working_dpo_login(tmp_path, client):
    output = _load_demo(tmp_path)

    assert "Published demo policy version(s) 1 (en), 2 (en), 1 (de), 2 (de)." in output
    for language in ["en", "de"]:
        published = PolicyVersion.objects.published().filter(language=language)
        assert list(published.values_list("number", flat=True)) == [2, 1]
    password = re.search(r"password '([^']+)'", output).group(1)
    assert client.login(username="dpo", password=password)
    assert client.get("/admin/privacy_portal/policyversion/").status_code == 200


def test_load_demo_twice_keeps_data_and_the_same_password(tmp_path):
    first = _load_demo(tmp_path)
    versions = list(PolicyVersion.objects.values_list("pk", "body_sha256"))

    second = _load_demo(tmp_path)

    assert "nothing changed" in second
    assert list(PolicyVersion.objects.values_list("pk", "body_sha256")) == versions
    assert re.search(r"password '([^']+)'", first).group(1) == re.search(
        r"password '([^']+)'", second
    ).group(1)
    assert User.objects.filter(username="dpo").count() == 1


def test_demo_dpo_is_staff_without_superuser_powers(tmp_path):
    _load_demo(tmp_path)

    dpo = User.objects.get(username="dpo")
    assert dpo.is_staff
    assert not dpo.is_superuser
    assert dpo.has_perm("privacy_portal.add_policyversion")
    assert not dpo.has_perm("auth.change_user")


def test_sync_roles_sets_exactly_the_declared_permissions():
    dpo, _ = Group.objects.get_or_create(name="DPO")  # the migration creates it
    dpo.permissions.add(Permission.objects.get(codename="change_user"))  # a stray grant
    out = StringIO()

    call_command("sync_roles", stdout=out)

    for name, declared in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert granted == set(declared)
        assert f"{name}: {len(declared)} permission(s)" in out.getvalue()
