"""`artengine gallery build`: a real run, its exported model and a style result, opened in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from artengine.cli import get_cli

HOSTILE = '<script>alert("x")</script>&'
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A 3-step DCGAN run on digits, exported into the run folder, plus a style result; one gallery of all."""
    root = tmp_path_factory.mktemp("gallery")
    runner = CliRunner()
    run = root / "run"
    res = runner.invoke(get_cli(), ["train", "dcgan", "--data", "digits", "--image-size", "16", "--steps", "3",
                                    "--batch-size", "8", "--out", str(run), "--quiet", "--set", "log_every=1"])
    assert res.exit_code == 0, res.output
    (run / "eval.json").write_text(json.dumps({"modes_covered": 7, "kl": 0.52, "note": HOSTILE}))
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
    out = root / "site"
    res = runner.invoke(get_cli(), ["gallery", "build", str(run), str(run / "model.onnx"), str(style / "out.png"),
                                    "--out", str(out), "--n", "9", "--interpolate", "2", "--frames", "3"])
    assert res.exit_code == 0, res.output
    return out


def test_pages_link_only_files_inside_the_site(site):
    pages = sorted(site.glob("*.html"))
    assert len(pages) == 4  # index + run + model + style
    index = (site / "index.html").read_text()
    for page in pages:
        text = page.read_text()
        for ref in re.findall(r'(?:src|href)="([^"]+)"', text):
            assert not ref.startswith(("/", "file:", "http")) and ".." not in ref, ref
            assert (site / ref).resolve().is_file(), ref
        if page.name != "index.html":
            assert page.name in index


def test_run_page_shows_curves_eval_and_dataset_credit(site):
    text = next(site.glob("run-*.html")).read_text()
    assert text.count("<svg") >= 2 and "<polyline" in text  # loss curves from metrics.jsonl
    assert "modes_covered" in text and "0.52" in text
    assert "CC BY 4.0" in text and "Alpaydin" in text  # the digits dataset's license and credit
    assert "<h2>Exported model</h2>" in text and "interpolation" in text


def test_all_values_are_escaped(site):
    for page in site.glob("*.html"):
        text = page.read_text()
        assert '<script>alert("x")' not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in next(site.glob("style-*.html")).read_text()


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
           f"--user-data-dir={tmp}", "--virtual-time-budget=5000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)")
def test_every_image_loads_in_chromium_and_screenshot_is_not_blank(site, tmp_path):
    for page in sorted(site.glob("*.html")):
        dom = _chromium("--dump-dom", page.resolve().as_uri(), tmp=tmp_path / "profile").stdout
        check = re.search(r'<div id="image-check"[^>]*>', dom)
        assert check, f"{page.name}: the image check did not run"
        attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', check.group(0)))
        assert attrs.get("state") == "done" and int(attrs["total"]) > 0, (page.name, attrs)
        assert attrs["broken"] == "0", (page.name, dom[dom.find("image-check"):][:300])
    shot = tmp_path / "index.png"
    _chromium(f"--screenshot={shot}", "--window-size=1000,800", (site / "index.html").resolve().as_uri(),
              tmp=tmp_path / "profile")
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.std() > 10, pixels.std()


WEB = Path(__file__).resolve().parents[1] / "examples" / "web"


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.skipif(not (WEB / "ort" / "ort.wasm.min.js").is_file(),
                    reason="examples/web is not built (cd examples/web && npm install && npm run build)")
def test_web_example_generates_images_with_onnxruntime_web(site, tmp_path):
    import functools
    import http.server
    import threading

    served = tmp_path / "web"
    shutil.copytree(WEB, served, ignore=shutil.ignore_patterns("node_modules"))
    shutil.copy(site.parent / "run" / "model.onnx", served / "model.onnx")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html?model=model.onnx"
        dom = _chromium("--virtual-time-budget=30000", "--dump-dom", url, tmp=tmp_path / "profile").stdout
    finally:
        server.shutdown()
    status = re.search(r'<div id="status">([^<]*)', dom)
    assert status and status.group(1).startswith("16 images in"), status and status.group(1)


def test_builds_into_a_folder_with_a_readme_and_rebuilds_in_place(site, tmp_path):
    from artengine.gallery import build_gallery

    out = tmp_path / "gallery"
    out.mkdir()
    (out / "README.md").write_text("kept")
    model = site.parent / "run" / "model.onnx"
    for _ in range(2):
        index = build_gallery([model], out, n=4, interpolate=0)
    assert (out / "README.md").read_text() == "kept" and index.is_file()
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "index.html", "model-model", "model-model.html"]
