"""The release id that keys cached pages: a fingerprint of the code when PORTAL_RELEASE is
not set (privacy_portal/release.py)."""

import shutil
from pathlib import Path

from privacy_portal.release import SOURCES, code_fingerprint

BASE_DIR = Path(__file__).resolve().parents[2]


def _copy_sources(target: Path) -> Path:
    for source in SOURCES:
        shutil.copytree(
            BASE_DIR / source, target / source, ignore=shutil.ignore_patterns("__pycache__")
        )
    return target


def test_any_change_to_a_template_python_or_translation_is_a_new_release(tmp_path):
    root = _copy_sources(tmp_path / "release")
    before = code_fingerprint(root)
    changes = [
        root / "templates" / "base.html",
        root / "consent" / "views.py",
        root / "locale" / "de" / "LC_MESSAGES" / "django.mo",
    ]
    seen = {before}
    for path in changes:
        path.write_bytes(path.read_bytes() + b"\n")
        seen.add(code_fingerprint(root))

    assert code_fingerprint(_copy_sources(tmp_path / "again")) == before  # same files, same id
    assert len(seen) == len(changes) + 1


def test_files_that_cannot_change_a_page_leave_the_release_alone(tmp_path):
    root = _copy_sources(tmp_path / "release")
    before = code_fingerprint(root)
    (root / "consent" / "__pycache__").mkdir()
    (root / "consent" / "__pycache__" / "views.cpython-313.pyc").write_bytes(b"\0")
    (root / "tests").mkdir()
    (root / "tests" / "test_new.py").write_text("def test(): pass\n")
    (root / "static" / "notes.orig").write_text("a backup")

    assert code_fingerprint(root) == before
