"""`artengine serve`: the live explorer, started through the real CLI and driven in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from tests.browser import CHROMIUM, SKIP_REASON, Browser


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny_onnx_model):
    """A folder like a gallery: a generator, a generator declaring an extra input, a style model."""
    import shutil

    import torch

    from artengine.export.api import export_module
    from tests.test_controls import META as GAIN_META
    from tests.test_controls import GainGenerator
    from tests.test_export import TinyStyleNet

    root = tmp_path_factory.mktemp("served")
    shutil.copy(tiny_onnx_model, root / "tiny.onnx")
    torch.manual_seed(1)
    export_module(GainGenerator().eval(), GAIN_META, root / "extras.onnx", options={"exporter": "torchscript"})
    torch.manual_seed(2)
    export_module(TinyStyleNet().eval(), {"kind": "image-to-image", "style": "starry-night", "image_size": 32,
                                          "channels": 3}, root / "style.onnx", options={"exporter": "torchscript"})
    (root / "index.html").write_text("<!DOCTYPE html><title>gallery</title><p>the gallery</p>")
    (root / ".artengine-gallery.json").write_text("{}")
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_text("private")
    os.symlink(secret, root / "leak.txt")
    return root


@pytest.fixture(scope="module")
def server(models):
    """``artengine serve FOLDER --port 0`` in a subprocess; yields its base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "artengine", "serve", str(models), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.kill()
        pytest.fail(f"serve did not start: {line!r} {proc.stderr.read()}")
    yield f"http://127.0.0.1:{match.group(1)}"
    proc.terminate()
    proc.wait(timeout=10)


def _get(url: str, data: bytes | None = None, headers: dict[str, str] | None = None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _announced_upload(base: str, path: str, length: int) -> int:
    """The status for a POST that announces ``length`` bytes: refused before the body is read."""
    import http.client

    conn = http.client.HTTPConnection(base.split("//", 1)[1], timeout=30)
    conn.putrequest("POST", path)
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()
    return status


def _model_ids(base: str) -> dict[str, int]:
    status, _, body = _get(f"{base}/api/models")
    assert status == 200
    return {m["name"]: m["id"] for m in json.loads(body)["models"]}


def test_models_are_listed_with_their_declared_extra_inputs(server):
    status, _, body = _get(f"{server}/api/models")
    listed = {m["name"]: m for m in json.loads(body)["models"]}
    assert set(listed) == {"tiny.onnx", "extras.onnx", "style.onnx"}
    assert listed["style.onnx"]["kind"] == "image-to-image"
    assert [(e["name"], e["min"], e["max"], e["default"]) for e in listed["extras.onnx"]["extra_inputs"]] == [
        ("gain", 0.0, 2.0, 1.0)]
    assert listed["tiny.onnx"]["extra_inputs"] == []


def test_an_image_downloads_as_a_png_named_with_its_seed_and_matches_the_runtime(server, models):
    from artengine.runtime import latent, load_model
    from artengine.runtime.images import to_uint8

    ids = _model_ids(server)
    status, headers, body = _get(f"{server}/api/image?model={ids['tiny.onnx']}&seed=42&index=3&download=1")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert 'filename="tiny-seed42-3.png"' in headers["Content-Disposition"]
    import io

    got = np.asarray(Image.open(io.BytesIO(body)))
    model = load_model(models / "tiny.onnx")
    want = to_uint8(model.generate(latent(42, 3, model.latent_dim)[None]))[0]
    assert np.array_equal(got.reshape(want.shape), want)  # the same picture `artengine render --seed 42` makes


def test_bad_requests_get_a_4xx_and_the_server_keeps_serving(server):
    ids = _model_ids(server)
    style = ids["style.onnx"]
    bad = [
        ("/api/image?seed=-1", 400), ("/api/image?seed=abc", 400), ("/api/image?index=99999999", 400),
        ("/api/image?truncation=nan", 400), ("/api/image?model=99", 404), (f"/api/image?model={style}", 400),
        (f"/api/image?model={ids['extras.onnx']}&gain=5", 400),
        (f"/api/image?model={ids['extras.onnx']}&gain=x", 400), ("/api/walk?frames=100000", 400),
        ("/api/image?scale=1000", 400), ("/nowhere", 404), ("/static/app.py", 404),
        ("/gallery/../../etc/passwd", 404), ("/gallery/%2e%2e/%2e%2e/etc/passwd", 404), ("/gallery/leak.txt", 404),
        ("/gallery/.artengine-gallery.json", 404), ("/gallery/tiny.onnx/../../x", 404),
    ]
    for path, want in bad:
        status, _, body = _get(server + path)
        assert status == want, (path, status, body[:200])
        assert json.loads(body)["error"]
    assert _get(f"{server}/api/stylize?model={style}", data=b"not an image")[0] == 400
    assert _announced_upload(server, f"/api/stylize?model={style}", 13 * 1024 * 1024) == 413
    assert _get(f"{server}/api/models", headers={"Host": "attacker.example"})[0] == 403
    assert _get(f"{server}/gallery/index.html")[0] == 200
    assert _get(f"{server}/api/image?seed=1")[0] == 200  # still alive


def test_fuzzed_requests_never_crash_the_server(server):
    """Property: any query to any endpoint is answered below 500 (a 4xx names the problem)."""
    from urllib.parse import quote

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    names = st.sampled_from(["model", "seed", "index", "truncation", "scale", "download", "gain", "a_seed",
                             "a_index", "b_seed", "b_index", "frames", "max_side", "x"])
    values = st.one_of(st.integers(-2**70, 2**70).map(str), st.floats().map(str), st.text(max_size=12),
                       st.sampled_from(["nan", "inf", "-0", "1e308", "0x10", " 1", "1.5", ""]))
    queries = st.lists(st.tuples(names, values), max_size=8)
    paths = st.sampled_from(["/api/image", "/api/walk", "/api/models", "/gallery/", "/static/explorer.js"])

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(path=paths, query=queries)
    def check(path, query):
        url = server + path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
        status, _, body = _get(url)
        assert status < 500, (url, body[:300])

    check()
    assert _get(server + "/api/image?" + "&".join(f"k{i}=1" for i in range(80)))[0] == 400
    assert _get(server + "/api/models")[0] == 200


def test_serving_never_imports_torch(models):
    script = f"""
import json, sys, threading, urllib.request
from artengine.cli import get_cli
from artengine.serve import make_server
get_cli()  # the CLI with every plugin loaded, as `artengine serve` has it
server = make_server({str(models)!r}, port=0)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d" % server.server_address[1]
for path in ("/api/models", "/api/image?model=0&seed=3", "/api/walk?model=0&frames=4", "/"):
    urllib.request.urlopen(base + path).read()
print(json.dumps(sorted(m for m in ("torch", "torchvision") if m in sys.modules)))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


PIXELS = """(function () {
  var img = document.querySelector('#samples img'), c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  var g = c.getContext('2d'); g.drawImage(img, 0, 0);
  return Array.from(g.getImageData(0, 0, c.width, c.height).data).join(',');
}())"""
LOADED = ("document.body.dataset.ready === '1' && document.querySelectorAll('#samples img').length > 0 && "
          "Array.from(document.querySelectorAll('#samples img')).every(i => i.complete && i.naturalWidth > 0)")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_explorer_in_chromium_new_samples_walk_sliders_and_stylize(server, models, tmp_path):
    ids = _model_ids(server)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(photo)
    with Browser() as browser:
        browser.open(server + "/")
        browser.wait_for(LOADED)
        browser.js(f"var s = document.getElementById('model'); s.value = '{ids['tiny.onnx']}'; "
                   "s.dispatchEvent(new Event('change'))")
        browser.wait_for(LOADED)
        before = browser.js(PIXELS)
        browser.js("document.getElementById('new').click()")
        browser.wait_for(LOADED + " && document.getElementById('seed').value !== '0'")
        after = browser.js(PIXELS)
        assert before != after  # new samples really are new pictures
        browser.js("var imgs = document.querySelectorAll('#samples img'); imgs[0].click(); imgs[3].click(); "
                   "document.getElementById('walk').click()")
        walk = browser.wait_for("var w = document.getElementById('walk-img'); "
                                "w.complete && w.naturalWidth > 0 && w.naturalWidth")
        assert walk >= 256  # the walk plays at a readable size
        href = browser.js("document.getElementById('download').href")
        seed = browser.js("document.getElementById('seed').value")
        assert f"seed={seed}" in href and "download=1" in href
        browser.js(f"var s = document.getElementById('model'); s.value = '{ids['extras.onnx']}'; "
                   "s.dispatchEvent(new Event('change'))")
        browser.wait_for(LOADED)
        assert browser.js("document.getElementById('extra-gain').value") == "1"
        dim = browser.js(PIXELS)
        browser.js("var g = document.getElementById('extra-gain'); g.value = '2'; g.dispatchEvent(new Event('change'))")
        browser.wait_for(LOADED + " && document.querySelector('#samples img').src.includes('gain=2')")
        assert browser.js(PIXELS) != dim  # the slider feeds the model's extra input
        browser.js(f"var s = document.getElementById('model'); s.value = '{ids['style.onnx']}'; "
                   "s.dispatchEvent(new Event('change'))")
        doc = browser.call("DOM.getDocument", session=True)["root"]["nodeId"]
        node = browser.call("DOM.querySelector", session=True, nodeId=doc, selector="#photo")["nodeId"]
        browser.call("DOM.setFileInputFiles", session=True, nodeId=node, files=[str(photo)])
        size = browser.wait_for("var s = document.getElementById('styled-img'); "
                                "s.complete && s.naturalWidth > 0 && [s.naturalWidth, s.naturalHeight]")
        assert size == [48, 40]
        assert browser.errors == [], browser.errors
