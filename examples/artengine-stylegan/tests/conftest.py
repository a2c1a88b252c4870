"""The package's tests run against the installed plugin (`make test` installs it); when it is not
installed yet (a checkout's first run), it is installed here the same way, editable and without deps."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parents[1]


def _ensure_installed() -> None:
    try:
        importlib.metadata.distribution("artengine-stylegan")
    except importlib.metadata.PackageNotFoundError:
        subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps",
                        "--no-build-isolation", "-e", str(PACKAGE)], check=True, capture_output=True, timeout=300)
        importlib.invalidate_caches()
        if str(PACKAGE) not in sys.path:
            sys.path.insert(0, str(PACKAGE))


_ensure_installed()
