"""Video stylization speed: frames/s of `artengine render STYLE.onnx --input clip.mp4 --out styled.mp4`
at 512 px, with deflicker off, ``blend`` and ``flow`` (Farneback optical flow), side by side.

The clip is written here (a moving square over a gradient, with a 440 Hz tone, so audio muxing is part
of the timing); the style network is the default fast-style network (width 16) with random weights
(speed does not depend on training). Frames/s counts decoding, stylizing, deflicker and encoding.

    .venv/bin/python bench/bench_video.py                 # 512x288, 48 frames
    .venv/bin/python bench/bench_video.py --quick         # smoke run
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine_info  # noqa: E402


def write_clip(path: Path, width: int, height: int, frames: int, fps: int) -> Path:
    import imageio_ffmpeg

    rate = 16000
    t = np.arange(int(frames / fps * rate)) / rate
    tone = path.with_suffix(".wav")
    with wave.open(str(tone), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes((0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, macro_block_size=1, quality=8,
                                         audio_path=str(tone), audio_codec="aac", ffmpeg_log_level="error")
    writer.send(None)
    base = np.zeros((height, width, 3), np.uint8)
    base[..., 0] = np.linspace(40, 200, width, dtype=np.uint8)[None, :]
    base[..., 2] = np.linspace(200, 40, height, dtype=np.uint8)[:, None]
    side = height // 4
    for i in range(frames):
        frame = base.copy()
        x = (i * width // frames) % (width - side)
        frame[height // 3:height // 3 + side, x:x + side] = (250, 240, 30)
        writer.send(frame)
    writer.close()
    return path


def export_style(path: Path, width: int) -> Path:
    import torch

    from artengine.export.api import export_module
    from artengine.plugins.style.transformer import StyleExport, TransformerNet

    torch.manual_seed(0)
    meta = {"kind": "image-to-image", "style": "bench", "image_size": 256, "channels": 3, "recipe": "fast-style",
            "dataset": "bench", "step": 0}
    export_module(StyleExport(TransformerNet(width, 5)).eval(), meta, path,
                  options={"exporter": "torchscript", "verify_batch": 1})
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=512, help="clip width (height 9/16 of it)")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--fps", type=int, default=24)
    p.add_argument("--network-width", type=int, default=16, help="fast-style network width (16: the default)")
    p.add_argument("--quick", action="store_true", help="smoke run: 128 px, 6 frames")
    args = p.parse_args()
    if args.quick:
        args.width, args.frames = 128, 6
    height = (args.width * 9 // 16) // 4 * 4
    print(machine_info.line())
    tmp = Path(tempfile.mkdtemp(prefix="bench-video-"))
    clip = write_clip(tmp / "clip.mp4", args.width, height, args.frames, args.fps)
    model_path = export_style(tmp / "style.onnx", args.network_width)

    from artengine.runtime import load_model
    from artengine.runtime.video import stylize_sequence

    model = load_model(model_path)
    print(f"\nclip {args.width}x{height}, {args.frames} frames with audio; fast-style width {args.network_width}")
    print(f"{'deflicker':<12}{'frames/s':>10}{'s/frame':>10}  (decode + stylize + deflicker + encode + mux)")
    for name, strength, method in (("off", 0.0, "flow"), ("blend 0.5", 0.5, "blend"), ("flow 0.5", 0.5, "flow")):
        t0 = time.perf_counter()
        result = stylize_sequence(model, clip, tmp / f"out-{method}-{strength}.mp4", max_side=args.width,
                                  deflicker=strength, deflicker_method=method, progress=False)
        seconds = time.perf_counter() - t0
        assert result.frames == args.frames and result.audio
        print(f"{name:<12}{result.frames / seconds:>10.2f}{seconds / result.frames:>10.3f}")


if __name__ == "__main__":
    main()
