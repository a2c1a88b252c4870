"""`artengine data inspect`: found/skipped files with reasons, modes and their conversions,
transparency, sizes, near-duplicates and a suggestion, on a folder of awkward real files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from artengine.errors import DatasetError
from artengine.plugins.datasets.inspect import dhash_bits, hamming_groups, inspect_folder
from tests.helpers_cli import run_cli


def noise(h: int, w: int, seed: int, channels: int = 3) -> np.ndarray:
    shape = (h, w, channels) if channels > 1 else (h, w)
    return (np.random.default_rng(seed).random(shape) * 255).astype(np.uint8)


@pytest.fixture
def awkward_folder(tmp_path: Path) -> Path:
    root = tmp_path / "art"
    (root / "sub").mkdir(parents=True)
    base = noise(64, 96, 0)
    Image.fromarray(base).save(root / "photo.png")
    Image.fromarray(base).save(root / "sub" / "photo-again.jpg", quality=85)  # a re-saved copy
    Image.fromarray(noise(80, 40, 1)).convert("P").save(root / "palette.gif")
    la = Image.fromarray(noise(48, 48, 2, 1)).convert("LA")
    la.putalpha(Image.fromarray(np.where(noise(48, 48, 3, 1) > 128, 255, 0).astype(np.uint8)))
    la.save(root / "sub" / "sprite.png")
    Image.fromarray(noise(50, 50, 4)).convert("RGBA").save(root / "opaque-rgba.png")  # alpha all 255
    Image.fromarray(noise(70, 70, 5)).convert("CMYK").save(root / "print.jpg")
    Image.fromarray((np.random.default_rng(6).random((40, 60)) * 65535).astype(np.uint16)).save(root / "scan16.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    (root / "notes.jpg").write_text("not a picture")
    (root / "readme.txt").write_text("ignored: not an image suffix")
    return root


def test_report_names_every_file_and_what_happens_to_it(awkward_folder):
    summary = inspect_folder(awkward_folder).summary()
    assert summary["images"] == 7
    skipped = {s["file"]: s["why"] for s in summary["skipped"]}
    assert set(skipped) == {"broken.png", "notes.jpg"}
    assert skipped["notes.jpg"] == "not an image PIL can read"
    assert summary["modes"]["CMYK"] == 1 and summary["modes"]["P"] == 1 and summary["modes"]["LA"] == 1
    conversions = " | ".join(summary["conversions"])
    for word in ("palette", "CMYK", "16-bit", "greyscale with alpha"):
        assert word in conversions
    assert summary["transparent"] == 1  # the sprite; the opaque RGBA file has no real transparency
    assert summary["channels"] == 3  # one transparent image in seven: flattened, and said so
    assert summary["min_side"] == {"min": 40, "median": 50, "max": 70}
    assert summary["aspect"]["landscape"] == 3 and summary["aspect"]["portrait"] == 1
    assert summary["duplicate_groups"] == [["photo.png", "sub/photo-again.jpg"]]
    sugg = summary["suggestion"]
    assert sugg["distinct_images"] == 6
    assert "--augment auto" in " ".join(sugg["notes"])
    assert any("too few for RGBA" in n for n in sugg["notes"])
    assert any("fine-tune" in n for n in sugg["notes"])


def test_cli_prints_the_report_and_json(awkward_folder):
    text = run_cli("data", "inspect", str(awkward_folder), check=True).stdout
    assert "7 images, 2 skipped" in text
    assert "skipped notes.jpg: not an image PIL can read" in text
    assert "converted: 1 CMYK -> RGB" in text
    assert "photo.png = sub/photo-again.jpg" in text
    assert "suggested: artengine train dcgan" in text
    data = json.loads(run_cli("data", "inspect", str(awkward_folder), "--json", check=True).stdout)
    assert data["images"] == 7


def test_bad_paths_are_one_clear_error(tmp_path):
    proc = run_cli("data", "inspect", str(tmp_path / "missing"))
    assert proc.returncode == 1 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images found"):
        inspect_folder(tmp_path / "empty")


def test_dhash_tells_different_images_apart_and_survives_resaving():
    a = Image.fromarray(noise(6, 6, 10)).resize((64, 64), Image.Resampling.BICUBIC)  # a smooth picture
    same = a.resize((48, 48)).convert("L")
    other = Image.fromarray(noise(6, 6, 11)).resize((64, 64), Image.Resampling.BICUBIC)
    from artengine.plugins.datasets.inspect import image_dhash

    ha, hs, ho = image_dhash(a), image_dhash(same), image_dhash(other)
    assert bin(ha ^ hs).count("1") <= 6
    assert bin(ha ^ ho).count("1") > 16


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=40), st.integers(0, 12))
def test_hamming_groups_match_a_brute_force_count(hashes, bits):
    groups = hamming_groups(hashes, bits)
    grouped = {i for g in groups for i in g}
    for i, a in enumerate(hashes):
        has_close = any(bin(a ^ b).count("1") <= bits for j, b in enumerate(hashes) if j != i)
        assert (i in grouped) == has_close
    assert all(len(g) > 1 for g in groups)
    assert len(grouped) == sum(len(g) for g in groups)  # each index in one group


def test_dhash_bits_is_64_bits_of_left_right_order():
    gray = np.tile(np.arange(9)[::-1], (8, 1))  # every left pixel brighter
    assert dhash_bits(gray) == 2**64 - 1
    assert dhash_bits(gray[:, ::-1]) == 0


def test_a_folder_of_sprites_is_reported_as_rgba(tmp_path):
    root = tmp_path / "sprites"
    root.mkdir()
    for i in range(4):
        img = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
        img.paste((255, 40 * i, 0, 255), (4, 4, 12, 12))
        img.save(root / f"{i}.png")
    summary = inspect_folder(root).summary()
    assert summary["transparent"] == 4 and summary["channels"] == 4
    assert "--set channels=4" in summary["suggestion"]["command"]
