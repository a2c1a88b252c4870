"""Writing a gallery into a folder the user owns: staged, then committed against a manifest.

The whole site is built in a hidden staging folder inside ``--out``. Only when it is complete
are its files moved into place; ``.artengine-gallery.json`` lists every file the gallery wrote,
so a rebuild removes exactly those and nothing else. A file in the way that the manifest does
not list belongs to the user: the build stops before changing anything.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from .. import atomic
from ..errors import ArtengineError

MANIFEST = ".artengine-gallery.json"


def _clean_rel(rel: str) -> str | None:
    """A manifest entry as a safe relative path inside the site, or None (absolute, '..', odd)."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel:
        return None
    path = PurePosixPath(rel)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        return None
    return path.as_posix()


def read_manifest(out: Path) -> set[str]:
    """Files an earlier build wrote (entries that would leave the folder are ignored)."""
    path = out / MANIFEST
    if not path.is_file() or path.is_symlink():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return set()
    files = data.get("files") if isinstance(data, dict) else None
    return {r for r in (_clean_rel(f) for f in files or []) if r}


class StagedSite:
    """A staging folder for one build; :meth:`commit` moves it into ``out``, :meth:`discard` drops it."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self._made_out = not self.out.exists()
        if self.out.exists() and not self.out.is_dir():
            raise ArtengineError(f"--out {str(self.out)!r} is a file, not a folder")
        self.out.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=".artengine-gallery-", dir=self.out))

    def path(self, rel: str) -> Path:
        clean = _clean_rel(rel)
        if clean is None:
            raise ArtengineError(f"refusing to write outside the gallery: {rel!r}")
        return self.root / clean

    def remove(self, rel: str) -> None:
        """Drop what a failed item had staged (its page and its folder)."""
        target = self.path(rel)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()

    def staged_files(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())

    def _conflicts(self, new: list[str], old: set[str]) -> list[str]:
        """Paths where a new file would replace (or sit under) something the gallery did not write."""
        found = []
        for rel in new:
            target = self.out / rel
            if (target.exists() or target.is_symlink()) and (rel not in old or target.is_symlink()
                                                             or not target.is_file()):
                found.append(rel)
            for parent in PurePosixPath(rel).parents:
                if str(parent) == ".":
                    continue
                folder = self.out / parent.as_posix()
                if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                    found.append(parent.as_posix())
        return sorted(set(found))

    def commit(self) -> list[str]:
        """Replace the previous build's files with this one's; returns the files written."""
        new = self.staged_files()
        old = read_manifest(self.out)
        conflicts = self._conflicts(new + [MANIFEST], old | {MANIFEST})
        if conflicts:
            shown = ", ".join(repr(str(self.out / c)) for c in conflicts[:3])
            raise ArtengineError(
                f"{shown} {'exists' if len(conflicts) == 1 else 'exist'} and {'was' if len(conflicts) == 1 else 'were'}"
                f" not written by `artengine gallery build`; nothing was changed",
                hint="choose an empty --out folder, or move those files away (an older gallery without "
                     f"{MANIFEST} can be deleted)")
        for rel in sorted(old - set(new)):
            target = self.out / rel
            if target.is_file() and not target.is_symlink():
                target.unlink()
        for rel in new:
            target = self.out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.root / rel, target)
        atomic.write_json(self.out / MANIFEST, {"written_by": "artengine gallery build", "files": new})
        self._prune_empty_dirs(old)
        return new

    def _prune_empty_dirs(self, old: set[str]) -> None:
        """Folders that held only the previous build's files go; any folder with a user file stays."""
        folders = {p.as_posix() for rel in old for p in PurePosixPath(rel).parents if str(p) != "."}
        for rel in sorted(folders, key=lambda r: -r.count("/")):
            folder = self.out / rel
            if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                folder.rmdir()

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self._made_out and self.out.is_dir() and not any(self.out.iterdir()):
            self.out.rmdir()
