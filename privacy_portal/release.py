"""The release id when PORTAL_RELEASE is not set: a fingerprint of the code that shapes
pages (Python, templates, translations, static files).

The release is part of the cache keys of rendered policies (caching.rendered_policy). A
deployment that forgot to set PORTAL_RELEASE used to keep serving the previous release's
renderings from the shared cache for up to a day; with the fingerprint, any change to the
code is a new release. Servers deployed
from the same files get the same fingerprint, so they still share their renderings.
"""

import hashlib
import os
from pathlib import Path

# The project's own folders whose files can change a page. Tests, benchmarks, the virtual
# environment and collected static files are not among them.
SOURCES = ("consent", "privacy_portal", "requests_app", "templates", "static", "locale")
SUFFIXES = (".py", ".html", ".txt", ".mo", ".css", ".js", ".svg", ".json")


def code_fingerprint(root: Path, sources: tuple[str, ...] = SOURCES) -> str:
    """SHA-256 (12 hex digits) over the path and bytes of every such file under `root`."""
    digest = hashlib.sha256()
    for source in sources:
        for folder, subfolders, files in os.walk(root / source):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(files):
                if not name.endswith(SUFFIXES):
                    continue
                path = Path(folder) / name
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
