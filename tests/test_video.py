"""`artengine render STYLE.onnx --input clip.mp4 --out styled.mp4`: real clips the tests write themselves
(a moving square, a 440 Hz tone), a real exported style network in onnxruntime, the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

FPS = 8
SIZE = (64, 48)  # width, height


@pytest.fixture(scope="module")
def style_model(tmp_path_factory) -> Path:
    """A small real fast-style network (random weights), exported as an image-to-image ONNX file."""
    import torch

    from artengine.export.api import export_module
    from artengine.plugins.style.transformer import StyleExport, TransformerNet

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("style-model") / "style.onnx"
    meta = {"kind": "image-to-image", "style": "test", "image_size": 32, "channels": 3, "recipe": "fast-style",
            "dataset": "test", "step": 0}
    export_module(StyleExport(TransformerNet(4, 1)).eval(), meta, path,
                  options={"exporter": "torchscript", "verify_batch": 1})
    return path


def _frames(count: int, noise: float = 0.0, seed: int = 0) -> list[np.ndarray]:
    """A square moving right over a gradient, optionally with per-frame noise (what makes styles flicker)."""
    rng = np.random.default_rng(seed)
    w, h = SIZE
    base = np.zeros((h, w, 3), np.float32)
    base[..., 0] = np.linspace(40, 200, w)[None, :]
    base[..., 2] = np.linspace(200, 40, h)[:, None]
    frames = []
    for i in range(count):
        img = base.copy()
        img[14:30, 4 + 3 * i:20 + 3 * i] = (250, 240, 30)
        if noise:
            img += rng.normal(0, noise, img.shape)
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def _tone(path: Path, seconds: float, rate: int = 16000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes(samples.tobytes())
    return path


def _write_clip(path: Path, frames: list[np.ndarray], audio: Path | None = None) -> Path:
    writer = imageio_ffmpeg.write_frames(str(path), SIZE, fps=FPS, macro_block_size=1, quality=9,
                                         audio_path=str(audio) if audio else None,
                                         audio_codec="aac" if audio else None, ffmpeg_log_level="error")
    writer.send(None)
    for frame in frames:
        writer.send(frame)
    writer.close()
    return path


def _read_clip(path: Path) -> tuple[dict, list[np.ndarray]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return meta, [np.frombuffer(raw, np.uint8).reshape(h, w, 3) for raw in reader]


def _cli_without_torch(args: list[str]) -> subprocess.CompletedProcess:
    """The real CLI in a fresh interpreter, reporting whether torch got imported."""
    code = ("import sys\nfrom artengine.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
            "print('TORCH', 'torch' in sys.modules)\nsys.exit(code)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)


def test_video_in_video_out_keeps_audio_frames_and_size_without_torch(style_model, tmp_path):
    clip = _write_clip(tmp_path / "clip.mp4", _frames(8), audio=_tone(tmp_path / "tone.wav", 1.0))
    out = tmp_path / "styled.mp4"
    proc = _cli_without_torch(["render", str(style_model), "--input", str(clip), "--out", str(out),
                               "--deflicker", "0.5"])
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "TORCH False" in proc.stdout
    assert "8 frames" in proc.stdout and "audio kept" in proc.stdout and "frames/s" in proc.stdout
    assert "frame/s" in proc.stderr  # the progress bar's rate
    meta, frames = _read_clip(out)
    assert len(frames) == 8 and tuple(meta["size"]) == SIZE
    assert meta["audio_codec"] and meta["fps"] == FPS
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left behind
    # the output is the network's picture, not the input passed through
    _, source = _read_clip(clip)
    assert np.abs(frames[3].astype(float) - source[3]).mean() > 10


def test_clip_without_audio_and_video_to_frame_folder(style_model, tmp_path):
    from artengine.runtime import load_model
    from artengine.runtime.video import stylize_sequence

    clip = _write_clip(tmp_path / "silent.mp4", _frames(5))
    out = tmp_path / "styled.mkv"
    result = stylize_sequence(load_model(style_model), clip, out, progress=False)
    meta, frames = _read_clip(out)
    assert len(frames) == 5 and not meta.get("audio_codec") and not result.audio

    folder = stylize_sequence(load_model(style_model), clip, tmp_path / "frames-out", max_side=32, progress=False)
    names = sorted((tmp_path / "frames-out" / "frames").iterdir())
    assert [p.name for p in names] == [f"frame-{i:06d}.png" for i in range(5)]
    assert Image.open(names[0]).size == (32, 24) and folder.size == (32, 24)
    manifest = json.loads((tmp_path / "frames-out" / "render.json").read_text())
    assert manifest["frames"] == 5 and manifest["images"][0] == "frames/frame-000000.png"


def test_frame_folder_to_video_in_natural_order(style_model, tmp_path):
    frames = _frames(11)
    src = tmp_path / "frames"
    src.mkdir()
    for i, frame in enumerate(frames):  # frame10 must come after frame9, not after frame1
        Image.fromarray(frame).save(src / f"frame{i}.png")
    out = tmp_path / "from-frames.mp4"
    proc = _cli_without_torch(["render", str(style_model), "--input", str(src), "--out", str(out), "--fps", "5"])
    assert proc.returncode == 0, proc.stderr + proc.stdout
    meta, written = _read_clip(out)
    assert len(written) == 11 and meta["fps"] == 5
    # the moving square goes right: the frame with the square furthest right is the last
    from artengine.runtime import load_model
    from artengine.runtime.video import fit_size

    model = load_model(style_model)
    assert fit_size(*SIZE, 512) == SIZE
    expected = model.stylize(frames[10].transpose(2, 0, 1)[None].astype(np.float32) / 255)[0].transpose(1, 2, 0)
    expected_wrong = model.stylize(frames[2].transpose(2, 0, 1)[None].astype(np.float32) / 255)[0].transpose(1, 2, 0)
    last = written[-1].astype(np.float32) / 255
    assert np.abs(last - expected).mean() < np.abs(last - expected_wrong).mean()


@pytest.mark.parametrize("method", ["flow", "blend"])
def test_deflicker_reduces_frame_to_frame_change_of_a_noisy_clip(style_model, tmp_path, method):
    """Sensor-like noise makes a style network's output jump every frame; blending with the previous
    (flow-warped) output must make consecutive frames closer, while the static parts stay stylized."""
    from artengine.runtime import load_model
    from artengine.runtime.video import stylize_sequence

    src = tmp_path / "noisy"
    src.mkdir()
    for i, frame in enumerate(_frames(8, noise=6.0)):
        Image.fromarray(frame).save(src / f"{i:03d}.png")
    model = load_model(style_model)
    flicker = {}
    for strength in (0.0, 0.7):
        out = tmp_path / f"out-{strength}"
        stylize_sequence(model, src, out, deflicker=strength, deflicker_method=method, progress=False)
        frames = [np.asarray(Image.open(p), np.float32) for p in sorted((out / "frames").iterdir())]
        # change between consecutive frames away from the moving square (rows below it)
        pairs = zip(frames[:-1], frames[1:], strict=True)
        flicker[strength] = np.mean([np.abs(b[34:] - a[34:]).mean() for a, b in pairs])
    assert flicker[0.7] < 0.6 * flicker[0.0], flicker


def test_failures_are_clear_and_leave_nothing(style_model, tiny_onnx_model, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video" * 10)
    out = tmp_path / "styled.mp4"
    proc = _cli_without_torch(["render", str(style_model), "--input", str(bad), "--out", str(out)])
    assert proc.returncode != 0 and "not a readable video" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4"]

    clip = _write_clip(tmp_path / "clip.mp4", _frames(3))
    proc = _cli_without_torch(["render", str(tiny_onnx_model), "--input", str(clip), "--out", str(out)])
    assert proc.returncode != 0 and "image-to-image" in proc.stderr and not out.exists()
    proc = _cli_without_torch(["render", str(style_model), "--input", str(clip), "--out", str(tmp_path / "x.avi")])
    assert proc.returncode != 0 and "cannot write .avi" in proc.stderr


def test_missing_video_extra_names_it(style_model, tmp_path):
    clip = _write_clip(tmp_path / "clip.mp4", _frames(2))

    def without(module: str, *extra: str) -> subprocess.CompletedProcess:
        args = ["render", str(style_model), "--input", str(clip), "--out", str(tmp_path / "o.mp4"), *extra]
        code = f"import sys\nsys.modules[{module!r}] = None\nfrom artengine.cli import main\nmain({args!r})"
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)

    proc = without("imageio_ffmpeg")
    assert proc.returncode != 0 and "artengine[video]" in proc.stderr and "Traceback" not in proc.stderr
    proc = without("cv2", "--deflicker", "0.5")
    assert proc.returncode != 0 and "--deflicker-method blend" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o.mp4").exists()
