"""`artengine gallery build`: a real run, its exported model and a style result, opened in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from artengine.cli import get_cli
from tests.browser import CHROMIUM, SKIP_REASON, Browser

HOSTILE = '<script>alert("x")</script>&'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A 3-step DCGAN run on digits, exported into the run folder, plus a style result; one gallery of all."""
    root = tmp_path_factory.mktemp("gallery")
    runner = CliRunner()
    run = root / "run"
    res = runner.invoke(get_cli(), ["train", "dcgan", "--data", "digits", "--image-size", "16", "--steps", "3",
                                    "--batch-size", "8", "--out", str(run), "--quiet", "--set", "log_every=1",
                                    "--set", "sample_every=1"])
    assert res.exit_code == 0, res.output
    (run / "eval.json").write_text(json.dumps({"modes_covered": 7, "num_modes": 10, "kl": 0.52, "samples": 500,
                                                   "note": HOSTILE}))
    res = runner.invoke(get_cli(), ["export", str(run), "--out", str(run / "model.onnx"), "--exporter",
                                    "torchscript"])
    assert res.exit_code == 0, res.output
    style = root / "style"
    style.mkdir()
    rng = np.random.default_rng(0)
    for name in ("out.png", "content.png", "painting.png"):
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(style / name)
    # The sidecar layout `artengine style` writes (plugins/style), with a hostile title to check escaping.
    (style / "out.json").write_text(json.dumps({
        "kind": "style-transfer", "image": "out.png", "width": 32, "height": 24,
        "content": {"name": "mine", "path": str(style / "content.png"), "title": HOSTILE, "source": "my camera",
                    "license": "mine"},
        "styles": [{"name": "painting", "path": "painting.png", "title": "A painting", "source": "a museum",
                    "license": "public domain", "weight": 1.0}],
        "settings": {"steps": 5, "size": 32}, "losses": {"style": 1.5, "content": 0.25},
        "loss_history": [{"step": i, "total": 10.0 / (i + 1)} for i in range(5)], "animation": None,
        "snapshots": [], "versions": {"artengine": "0.1.0"}}))
    # A second run beside the first (same files, plus the augmentation p and KID series H6's trainer logs).
    other = root / "run-b"
    shutil.copytree(run, other, ignore=shutil.ignore_patterns("*.onnx", "eval.json"))
    for grid in (other / "samples").glob("*.png"):  # run-b's grids are transparent sprites (RGBA)
        with Image.open(grid) as img:
            rgba = np.asarray(img.convert("RGBA")).copy()
        rgba[: rgba.shape[0] // 2, :, 3] = 0
        Image.fromarray(rgba).save(grid)
    with open(other / "metrics.jsonl", "a") as fh:
        for step, (p, kid) in enumerate([(0.0, 0.09), (0.2, 0.05), (0.35, 0.03)], start=4):
            fh.write(json.dumps({"step": step, "loss_g": 1.0, "loss_d": 1.0, "aug_p": p}) + "\n")
            fh.write(json.dumps({"step": step, "event": "eval", "kid": kid, "modes_covered": 10, "num_modes": 10,
                                 "kl": 0.04, "samples": 5000, "dataset": "digits"}) + "\n")
    # run-b was fine-tuned from another run, and `artengine eval` (--all-checkpoints) measured it.
    config = json.loads((other / "config.json").read_text())
    config["trainer"]["init_from"] = f"/runs/{HOSTILE}:step-000000300"
    (other / "config.json").write_text(json.dumps(config))
    (other / "eval").mkdir()
    Image.fromarray(rng.integers(0, 255, (34, 70, 3), dtype=np.uint8)).save(other / "eval" / "closest-pairs.png")
    (other / "eval.json").write_text(json.dumps({
        "dataset": "digits", "step": 6, "modes_covered": 10, "num_modes": 10, "kl": 0.04, "kid": 0.03,
        "samples": 5000, "near_copy_share": 0.25, "near_copy_share_real": 0.02, "memorization_warning": True,
        "closest_pairs": [{"sample": i, "train": i, "ratio": 0.1} for i in range(4)],
        "closest_pairs_png": str(other / "eval" / "closest-pairs.png")}))
    (other / "eval" / "curve.json").write_text(json.dumps({
        "feature_space": "VGG16 conv5 (64 px)", "best": {"checkpoint": "step-000000005", "step": 5, "kid": 0.02},
        "points": [{"checkpoint": f"step-00000000{s}", "step": s, "kid": k, "kid_std": 0.01, "precision": p,
                    "recall": r, "near_copy_share": 0.1} for s, k, p, r in [(4, 0.05, 0.5, 0.2), (5, 0.02, 0.7, 0.4),
                                                                            (6, 0.03, 0.6, 0.5)]]}))
    out = root / "site"
    res = runner.invoke(get_cli(), ["gallery", "build", str(run), str(other), str(run / "model.onnx"),
                                    str(style / "out.png"),
                                    "--out", str(out), "--n", "9", "--interpolate", "2", "--frames", "3"])
    assert res.exit_code == 0, res.output
    return out


def test_pages_link_only_files_inside_the_site(site):
    pages = sorted(site.glob("*.html"))
    assert len(pages) == 5  # index + 2 runs + model + style
    index = (site / "index.html").read_text()
    for page in pages:
        text = page.read_text()
        for ref in re.findall(r'(?:src|href)="([^"]+)"', text):
            if ref == "data:,":  # the empty favicon: nothing is requested
                continue
            assert not ref.startswith(("/", "file:", "http")) and ".." not in ref, ref
            assert (site / ref).resolve().is_file(), ref
        if page.name != "index.html":
            assert page.name in index


def test_run_page_shows_timeline_curves_eval_in_words_and_credit_with_config_last(site):
    text = (site / "run-run.html").read_text()
    assert 'class="timeline"' in text and "training.gif" in text  # scrubbable grids plus their animation
    assert text.count("<svg") >= 2 and "<polyline" in text  # loss curves from metrics.jsonl
    assert "7 of 10 digits drawn" in text and "KL 0.52" in text  # eval.json, said in words
    assert "CC BY 4.0" in text and "Alpaydin" in text  # the digits dataset's license and credit
    assert "The exported model" in text and "latent walk" in text
    assert text.rfind("<summary>Config</summary>") > max(text.rfind("<svg"), text.rfind('class="credit"'))


def test_augmentation_p_and_kid_are_plotted_and_kid_is_said_in_words(site):
    text = (site / "run-run-b.html").read_text()
    assert "augmentation probability p" in text and "KID (eval" in text
    assert "all 10 digits drawn" in text and "KID 0.03" in text


def test_run_page_shows_the_closest_pairs_in_words_the_checkpoint_curve_and_the_parent_run(site):
    text = (site / "run-run-b.html").read_text()
    assert (site / "run-run-b" / "closest-pairs.png").is_file() and 'src="run-run-b/closest-pairs.png"' in text
    assert "Top row: the 4 samples closest to a training image" in text
    assert "25% of the samples are near copies" in text and "score 2% against each other" in text
    assert "the generator copies training images" in text
    curve = text.split("Quality over the checkpoints", 1)[1]
    assert "precision (eval" in curve and "recall (eval" in curve and "KID (eval" in curve
    assert "lowest KID at step-000000005, KID 0.02" in curve and "kid_std" not in curve.split("<details", 1)[0]
    assert "fine-tuned from /runs/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp; (step-000000300)" in text
    assert "fine-tuned from" in (site / "index.html").read_text()  # in its side-by-side column
    plain = (site / "run-run.html").read_text()
    assert "fine-tuned" not in plain and "closest-pairs" not in plain and "over the checkpoints" not in plain


def test_closest_pairs_caption_says_no_copying_at_the_baseline():
    from artengine.gallery.words import closest_pairs_caption

    text = closest_pairs_caption({"near_copy_share": 0.03, "near_copy_share_real": 0.02}, 8)
    assert "the 8 samples" in text and "3% of the samples" in text and "no sign of copying" in text
    named = closest_pairs_caption({"near_copy_share": 0.5, "near_copy_share_real": 0.02, "closest_pairs": [
        {"sample": 3, "train": 7, "ratio": 0.0, "train_name": "cats/tom.png"},
        {"sample": 1, "train": 2, "ratio": 0.1, "train_name": "dog.jpg"}]}, 2)
    assert "copies training images" in named and named.endswith("left to right: cats/tom.png, dog.jpg.")


def test_transparent_grids_are_shown_on_a_checkerboard_and_opaque_ones_are_not(site):
    def alpha_imgs(text):
        found = re.findall(r'<img src="([^"]+)"[^>]*?class="([^"]*)"', text)
        return [src for src, cls in found if "alpha" in cls.split()]

    rgba_page = (site / "run-run-b.html").read_text()
    assert any("step-" in src for src in alpha_imgs(rgba_page))  # the timeline
    assert any("training.gif" in src for src in alpha_imgs(rgba_page))
    with Image.open(site / "run-run-b" / "training.gif") as gif:
        assert "transparency" in gif.info  # the animation keeps the holes
    index = (site / "index.html").read_text()
    assert any(src.startswith("run-run-b/") for src in alpha_imgs(index))  # its front-page tile and column
    assert not any(src.startswith("run-run/") for src in alpha_imgs(index))  # the opaque run stays as it was
    css = (site / "assets" / "gallery.css").read_text()
    assert "img.alpha" in css and "#lightbox img.alpha" in css


def test_front_page_shows_the_work_first_and_runs_side_by_side(site):
    index = (site / "index.html").read_text()
    main = index.split("<main>", 1)[1]
    assert main.startswith('<section class="works">')
    assert 'class="px"' in main and 'class="compare"' in main  # pixelated grids, a before/after slider
    assert "interpolation-seed0-k2.gif" in main and "training.gif" in main  # walk and training animation
    assert "Runs side by side" in main and main.count('class="col"') == 2


def test_eval_words_read_like_a_sentence():
    from artengine.gallery.words import describe_eval

    lines = describe_eval({"modes_covered": 10, "num_modes": 10, "kl": 0.04, "kl_real": 0.02, "samples": 26000},
                          "digits")
    assert lines[0] == "all 10 digits drawn"
    assert lines[1].startswith("KL 0.04, close to real data's 0.02")
    far = describe_eval({"modes_covered": 3, "num_modes": 10, "kl": 1.6, "samples": 500, "collapse_warning": True})
    assert far[0].startswith("3 of 10 classes drawn") and "a few classes dominate" in far[1]
    assert any("mode-collapsed" in line for line in far)


def test_all_values_are_escaped(site):
    for page in site.glob("*.html"):
        text = page.read_text()
        assert '<script>alert("x")' not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in next(site.glob("style-*.html")).read_text()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_pages_in_chromium_load_every_image_without_console_errors_and_the_lightbox_works(site):
    with Browser() as browser:
        for page in sorted(site.glob("*.html")):
            browser.open(page.resolve().as_uri())
            browser.wait_for("document.getElementById('image-check').dataset.state === 'done'")
            broken = browser.js("Array.from(document.images).filter(i => i.closest('#lightbox') === null && "
                                "(!i.complete || i.naturalWidth === 0)).map(i => i.getAttribute('src'))")
            assert broken == [], (page.name, broken)
        browser.open((site / "index.html").resolve().as_uri())
        browser.js("document.querySelector('[data-lb]').click()")
        assert browser.js("document.getElementById('lightbox').classList.contains('open')")
        caption = browser.js("document.querySelector('#lightbox .caption').textContent")
        assert "seed" in caption or "step" in caption, caption
        width = browser.wait_for("document.querySelector('#lightbox img').getBoundingClientRect().width")
        assert width >= 400, width  # a small grid is shown large
        key = "document.dispatchEvent(new KeyboardEvent('keydown', {key: '%s'}))"
        browser.js(key % "ArrowRight")
        assert browser.js("document.getElementById('lightbox').dataset.index") == "1"
        browser.js(key % "Escape")
        assert not browser.js("document.getElementById('lightbox').classList.contains('open')")
        browser.open((site / "run-run.html").resolve().as_uri())
        first = browser.js("var r = document.querySelector('.timeline input'); r.value = 0; "
                           "r.dispatchEvent(new Event('input')); document.querySelector('.timeline img').src")
        assert first.endswith("step-000000001.png") or "step-0000000" in first
        assert browser.js("document.querySelector('.timeline .step').textContent") != "step 3"
        browser.open((site / "run-run-b.html").resolve().as_uri())  # transparent grids: a checkerboard
        checker = "getComputedStyle(document.querySelector('%s')).backgroundImage"
        assert "conic-gradient" in browser.js(checker % ".timeline img")
        browser.js("document.querySelector('.timeline img').click()")
        assert "conic-gradient" in browser.js(checker % "#lightbox img")
        browser.open((site / "style-out.html").resolve().as_uri())
        browser.js("var r = document.querySelector('.compare input'); r.value = 20; "
                   "r.dispatchEvent(new Event('input'))")
        assert browser.js("document.querySelector('.compare').style.getPropertyValue('--pos')") == "20%"
        assert browser.errors == [], browser.errors


def test_a_run_given_as_a_relative_path_keeps_its_grids_and_eval_pictures(site, tmp_path, monkeypatch):
    from artengine.gallery import build_gallery

    monkeypatch.chdir(site.parent)
    warnings: list[str] = []
    build_gallery([Path("run-b")], tmp_path / "g", warn=warnings.append)
    assert warnings == []
    assert len(list((tmp_path / "g" / "run-run-b").glob("step-*.png"))) == 3
    assert (tmp_path / "g" / "run-run-b" / "closest-pairs.png").is_file()


def test_builds_into_a_folder_with_a_readme_and_rebuilds_in_place(site, tmp_path):
    from artengine.gallery import build_gallery

    out = tmp_path / "gallery"
    out.mkdir()
    (out / "README.md").write_text("kept")
    model = site.parent / "run" / "model.onnx"
    for _ in range(2):
        index = build_gallery([model], out, n=4, interpolate=0)
    assert (out / "README.md").read_text() == "kept" and index.is_file()
    assert sorted(p.name for p in out.iterdir()) == [".artengine-gallery.json", "README.md", "assets", "index.html",
                                                     "model-model", "model-model.html"]
