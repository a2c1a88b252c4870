"""`artengine gallery build` against hostile inputs: sidecars pointing outside their folder, a user's
folder that looks like an old gallery, and sources that cannot be read (issue 11, items 2 and 12)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers_cli import run_cli

SECRET = b"the-user-s-private-key-0123456789"


def _site_bytes(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())


def _png(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files a sidecar must never pull into a gallery: a secret text file and a private photo."""
    secret = tmp_path / "private"
    secret.mkdir()
    (secret / "secret.txt").write_bytes(SECRET)
    _png(secret / "holiday.png", seed=7)
    return secret


def _style_folder(tmp_path: Path, name: str, **fields) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    _png(folder / "out.png")
    sidecar = {"kind": "style-transfer", "image": "out.png", "width": 16, "height": 12,
               "content": {"name": "mine", "path": "missing.png"}, "styles": [], "snapshots": [],
               "animation": None, **fields}
    (folder / "out.json").write_text(json.dumps(sidecar))
    return folder / "out.json"


@pytest.mark.parametrize("field", ["image", "content", "animation", "snapshot", "style"])
def test_sidecar_paths_outside_the_folder_are_refused(tmp_path, outside, field):
    secret = outside / "secret.txt"
    photo = outside / "holiday.png"
    hostile = {
        "image": {"image": "../private/secret.txt"},
        "content": {"content": {"name": "x", "path": str(photo)}},
        "animation": {"animation": "../private/secret.txt"},
        "snapshot": {"snapshots": [{"step": 1, "path": str(secret)}]},
        "style": {"styles": [{"name": "y", "path": "../private/holiday.png"}]},
    }[field]
    sidecar = _style_folder(tmp_path, "result", **hostile)
    out = tmp_path / "site"
    proc = run_cli("gallery", "build", str(sidecar), "--out", str(out))
    site = _site_bytes(out) if out.exists() else b""
    assert SECRET not in site
    assert (photo.read_bytes() not in site) or field == "image"
    assert "outside" in proc.stderr + proc.stdout, (proc.stdout, proc.stderr)


def test_a_symlink_escaping_the_folder_is_refused(tmp_path, outside):
    sidecar = _style_folder(tmp_path, "result", snapshots=[{"step": 3, "path": "snap.png"}])
    os.symlink(outside / "holiday.png", sidecar.parent / "snap.png")
    (sidecar.parent / "anim.gif").symlink_to(outside / "secret.txt")
    data = json.loads(sidecar.read_text())
    data["animation"] = "anim.gif"
    sidecar.write_text(json.dumps(data))
    out = tmp_path / "site"
    proc = run_cli("gallery", "build", str(sidecar), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    site = _site_bytes(out)
    assert SECRET not in site and (outside / "holiday.png").read_bytes() not in site
    assert "outside" in proc.stderr


def test_a_source_that_is_not_an_image_is_refused(tmp_path):
    sidecar = _style_folder(tmp_path, "result", snapshots=[{"step": 1, "path": "notes.png"}])
    (sidecar.parent / "notes.png").write_bytes(SECRET)  # inside the folder, named .png, not an image
    out = tmp_path / "site"
    proc = run_cli("gallery", "build", str(sidecar), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in _site_bytes(out)
    assert "not an image" in proc.stderr


def test_a_user_folder_that_looks_like_a_gallery_is_never_deleted(tmp_path):
    sidecar = _style_folder(tmp_path, "result")
    out = tmp_path / "mine"
    (out / "style-out").mkdir(parents=True)  # the slug this build would use for the style page
    (out / "style-out" / "thesis.txt").write_text("years of work")
    (out / "index.html").write_text("<h1>my own home page</h1>")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = run_cli("gallery", "build", str(sidecar), "--out", str(out))
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert proc.returncode != 0 and "not written by" in proc.stderr, proc.stderr


def test_a_rebuild_removes_only_files_the_gallery_wrote(tmp_path):
    first = _style_folder(tmp_path, "first")
    out = tmp_path / "site"
    assert run_cli("gallery", "build", str(first), "--out", str(out)).returncode == 0
    page_folder = next(p for p in out.iterdir() if p.is_dir() and p.name.startswith("style-"))
    (page_folder / "my-notes.txt").write_text("added by the user")
    (out / "README.md").write_text("kept")
    second = _style_folder(tmp_path, "second")
    (second.parent / "out.json").rename(second.parent / "other.json")
    proc = run_cli("gallery", "build", str(second.parent / "other.json"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (page_folder / "my-notes.txt").read_text() == "added by the user"
    assert (out / "README.md").read_text() == "kept"
    assert not list(page_folder.glob("*.png"))  # the first build's own files are gone
    assert any(p.name.startswith("style-other") for p in out.iterdir())


def test_one_unreadable_source_is_skipped_and_the_rest_is_built(tmp_path):
    good = _style_folder(tmp_path, "good")
    bad_model = tmp_path / "broken.onnx"
    bad_model.write_bytes(b"not a model")
    bad_run = tmp_path / "bad-run"
    bad_run.mkdir()
    (bad_run / "config.json").write_text("{ torn")
    out = tmp_path / "site"
    proc = run_cli("gallery", "build", str(bad_model), str(bad_run), str(good), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "broken.onnx" in proc.stderr and "bad-run" in proc.stderr and "skipped" in proc.stderr
    index = (out / "index.html").read_text()
    assert 'href="style-out.html"' in index and (out / "style-out.html").is_file()
    assert "broken.onnx" in index.split("Skipped", 1)[1]  # the front page says what is missing


def test_a_build_where_every_source_fails_is_an_error_and_writes_nothing(tmp_path):
    bad_model = tmp_path / "broken.onnx"
    bad_model.write_bytes(b"not a model")
    out = tmp_path / "site"
    proc = run_cli("gallery", "build", str(bad_model), "--out", str(out))
    assert proc.returncode != 0 and "Error:" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() or not any(out.iterdir())


def _hostile_folder(root: Path, outside: Path) -> Path:
    """A style folder holding a real result, a text file named .png, a FIFO, and links leading out."""
    folder = root / "result"
    folder.mkdir()
    _png(folder / "out.png")
    (folder / "notes.png").write_bytes(SECRET)
    os.mkfifo(folder / "pipe.png")
    os.symlink(outside / "holiday.png", folder / "link.png")
    os.symlink(outside, folder / "dir-link")
    return folder


def test_fuzzed_sidecars_never_leak_a_file_and_never_crash(tmp_path, outside):
    """Property: whatever a sidecar holds, the build ends in success or one ArtengineError, copies
    nothing from outside the folder, and a failed build leaves --out as it was."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from artengine.errors import ArtengineError
    from artengine.gallery import build_gallery

    folder = _hostile_folder(tmp_path, outside)
    paths = st.sampled_from(["out.png", "notes.png", "pipe.png", "link.png", "dir-link/holiday.png",
                             "../private/secret.txt", str(outside / "secret.txt"), str(outside / "holiday.png"),
                             "/dev/zero", ".", "", "out.png/..", "dir-link", "\0bad", "~/.ssh/id_rsa"])
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=True),
                        st.text(max_size=20), paths)
    refs = st.one_of(scalars, st.dictionaries(st.sampled_from(["path", "name", "title", "weight", "step"]),
                                              scalars, max_size=4))
    sidecars = st.fixed_dictionaries({"image": st.one_of(paths, scalars), "content": refs,
                                      "styles": st.one_of(scalars, st.lists(refs, max_size=3)),
                                      "animation": st.one_of(paths, scalars),
                                      "snapshots": st.one_of(scalars, st.lists(refs, max_size=3)),
                                      "settings": refs, "loss_history": st.one_of(scalars, st.lists(refs))})
    leaks = [SECRET, (outside / "holiday.png").read_bytes()]
    out = tmp_path / "site"
    out.mkdir()
    (out / "README.md").write_text("mine")

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(sidecar=sidecars)
    def check(sidecar):
        (folder / "out.json").write_text(json.dumps({"kind": "style-transfer", **sidecar}))
        before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        try:
            build_gallery([folder / "out.json"], out, warn=lambda text: None)
        except ArtengineError:
            assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
        site = _site_bytes(out)
        assert not any(leak in site for leak in leaks)
        assert (out / "README.md").read_text() == "mine"

    check()


def test_a_run_sample_linking_outside_the_run_is_not_copied(tmp_path, outside):
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"recipe": "dcgan", "seed": 0, "image_size": 16, "batch_size": 8,
                                                 "trainer": {"name": "gan"}, "dataset": {"name": "digits"}}))
    _png(run / "samples" / "step-000000002.png", seed=1)
    os.symlink(outside / "holiday.png", run / "samples" / "step-000000001.png")
    (run / "eval").mkdir()  # eval.json naming a picture outside the run; a damaged checkpoint curve
    (run / "eval.json").write_text(json.dumps({"kid": 0.1, "closest_pairs_png": str(outside / "holiday.png")}))
    (run / "eval" / "curve.json").write_text("{ torn")
    out = tmp_path / "site"
    proc = run_cli("gallery", "build", str(run), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (outside / "holiday.png").read_bytes() not in _site_bytes(out)
    assert "step-000000001.png" in proc.stderr and "outside" in proc.stderr
    assert "closest pairs image" in proc.stderr and "KID 0.1" in (out / "run-run.html").read_text()
    assert (out / "run-run" / "step-000000002.png").is_file()
