"""Stylize a video or a numbered frame sequence with an image-to-image model, frame by frame.

Decoding and encoding go through imageio-ffmpeg, which ships its own ffmpeg binary (the optional
extra ``artengine[video]``), so nothing has to be installed system-wide. The source's audio track is
muxed back into the output by that same binary. Feed-forward style networks flicker between frames
(small input changes move the strokes), so ``deflicker`` blends each result with the previous
*output*, warped onto the current frame by OpenCV's Farneback optical flow (``flow``, also in the
extra), or not warped at all (``blend``); pixels the flow cannot explain (occlusions, cuts) keep the
fresh result. Torch-free like the rest of :mod:`artengine.runtime`.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import atomic
from ..errors import ArtengineError
from .images import save_png

#: containers we write, with the video and audio encoders the bundled ffmpeg has for them
OUTPUT_CODECS = {".mp4": ("libx264", "aac"), ".m4v": ("libx264", "aac"), ".mov": ("libx264", "aac"),
                 ".mkv": ("libx264", "aac"), ".webm": ("libvpx-vp9", "libopus")}
INPUT_SUFFIXES = set(OUTPUT_CODECS) | {".avi", ".gif", ".mpg", ".mpeg", ".wmv", ".flv"}
FRAME_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
DEFLICKER_METHODS = ("flow", "blend")
#: a pixel whose warped previous frame differs by more than this (0-255 scale) is treated as occluded
OCCLUSION_THRESHOLD = 24.0


def is_video_path(path: str | Path) -> bool:
    """True for a file name a video container is read from or written to (by suffix)."""
    return Path(path).suffix.lower() in INPUT_SUFFIXES


def wants_sequence(source: str | Path, out: str | Path, deflicker: float = 0.0) -> bool:
    """Whether a render is a frame sequence: a video in or out, or a frame folder with deflicker on."""
    return is_video_path(source) or Path(out).suffix.lower() in OUTPUT_CODECS or deflicker > 0


def _ffmpeg_module():
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ArtengineError("video needs imageio-ffmpeg, which is not installed",
                             hint="pip install 'artengine[video]' (it ships its own ffmpeg binary)") from None
    return imageio_ffmpeg


def _cv2():
    try:
        import cv2
    except ImportError:
        raise ArtengineError("--deflicker-method flow needs OpenCV, which is not installed",
                             hint="pip install 'artengine[video]', or use --deflicker-method blend") from None
    return cv2


# -------------------------------------------------------------------- sources


@dataclass
class FrameSource:
    """Frames as uint8 ``[H, W, 3]`` arrays, with the rate to play them at and whether audio comes along."""

    frames: Iterator[np.ndarray]
    fps: float
    count: int | None
    audio: Path | None = None
    size: tuple[int, int] = (0, 0)
    info: dict[str, Any] = field(default_factory=dict)


def _natural_key(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def open_frames(source: str | Path, *, fps: float = 12.0) -> FrameSource:
    """A video file (decoded by the bundled ffmpeg) or a folder of frames in natural name order."""
    source = Path(source)
    if source.is_dir():
        files = sorted((p for p in source.iterdir() if p.suffix.lower() in FRAME_SUFFIXES and
                        not p.name.startswith(".")), key=_natural_key)
        if not files:
            raise ArtengineError(f"--input {str(source)!r} holds no frames ({', '.join(sorted(FRAME_SUFFIXES))})")
        return FrameSource(_folder_frames(files), fps=fps, count=len(files), info={"frames_from": str(source)})
    if not source.is_file():
        raise ArtengineError(f"--input {str(source)!r} does not exist")
    ffmpeg = _ffmpeg_module()
    reader = ffmpeg.read_frames(str(source))
    try:
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration) as exc:
        reader.close()
        raise ArtengineError(f"--input {str(source)!r} is not a readable video ({str(exc).splitlines()[0][:200]})",
                             hint="re-encode it with ffmpeg, or pass a folder of frames") from None
    width, height = (int(v) for v in meta["size"])
    rate = float(meta.get("fps") or fps)
    duration = float(meta.get("duration") or 0.0)
    count = round(duration * rate) if duration > 0 else None
    audio = source if meta.get("audio_codec") else None

    def frames() -> Iterator[np.ndarray]:
        try:
            for raw in reader:
                yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
        finally:
            reader.close()

    return FrameSource(frames(), fps=rate, count=count, audio=audio, size=(width, height),
                       info={"codec": meta.get("codec"), "audio_codec": meta.get("audio_codec")})


def _folder_frames(files: list[Path]) -> Iterator[np.ndarray]:
    from PIL import Image

    for path in files:
        try:
            with Image.open(path) as img:
                yield np.asarray(img.convert("RGB"))
        except OSError as exc:
            raise ArtengineError(f"frame {str(path)!r} cannot be read ({exc})",
                                 hint="remove or replace the damaged file") from None


def fit_size(width: int, height: int, max_side: int, multiple: int = 4) -> tuple[int, int]:
    """The frame size the model sees: at most ``max_side`` on the longer side, both sides a multiple of 4
    (video encoders want even sizes; the style network halves twice)."""
    scale = min(1.0, max_side / max(width, height)) if max_side else 1.0
    return (max(multiple, round(width * scale / multiple) * multiple),
            max(multiple, round(height * scale / multiple) * multiple))


def _resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    from PIL import Image

    return np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR))


# -------------------------------------------------------------------- flicker


class Deflicker:
    """Blend each stylized frame with the previous output, warped by optical flow (``flow``) or not
    (``blend``); ``strength`` is the previous output's weight where the motion is explained."""

    def __init__(self, strength: float, method: str = "flow"):
        if not 0.0 <= strength < 1.0:
            raise ArtengineError(f"--deflicker {strength} is out of range; use 0 (off) up to 0.95")
        if method not in DEFLICKER_METHODS:
            raise ArtengineError(f"--deflicker-method {method!r} is unknown; use {' or '.join(DEFLICKER_METHODS)}")
        self.strength = strength
        self.method = method
        self.cv2 = _cv2() if method == "flow" and strength > 0 else None
        self._prev_frame: np.ndarray | None = None
        self._prev_out: np.ndarray | None = None

    def __call__(self, frame: np.ndarray, styled: np.ndarray) -> np.ndarray:
        """``frame`` and ``styled``: uint8 ``[H, W, 3]`` of the same size; returns the output frame."""
        if self.strength <= 0:
            return styled
        if self._prev_out is None or self._prev_out.shape != styled.shape:
            out = styled
        else:
            if self.cv2 is not None:
                prev_out, prev_frame = self._warp_previous(frame)
            else:
                prev_out, prev_frame = self._prev_out, self._prev_frame
            error = np.abs(prev_frame.astype(np.float32) - frame.astype(np.float32)).mean(axis=2, keepdims=True)
            weight = self.strength * (error < OCCLUSION_THRESHOLD)
            out = (styled * (1.0 - weight) + prev_out * weight + 0.5).astype(np.uint8)
        self._prev_frame, self._prev_out = frame, out
        return out

    def _warp_previous(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The previous output and frame moved onto ``frame``: flow from the current to the previous frame,
        so every current pixel looks up where it came from (backward warping leaves no holes)."""
        cv2 = self.cv2
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        prev_gray = cv2.cvtColor(self._prev_frame, cv2.COLOR_RGB2GRAY)
        flow = cv2.calcOpticalFlowFarneback(gray, prev_gray, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        h, w = gray.shape
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        map_x, map_y = xs + flow[..., 0], ys + flow[..., 1]
        warp = [cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                for img in (self._prev_out, self._prev_frame)]
        return warp[0], warp[1]


# -------------------------------------------------------------------- sinks


class _VideoSink:
    """Encodes frames into a temp file next to ``path``; :meth:`finish` muxes audio and renames it into place."""

    def __init__(self, path: Path, size: tuple[int, int], fps: float, audio: Path | None, quality: float):
        self.path = path
        vcodec, acodec = OUTPUT_CODECS[path.suffix.lower()]
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        ffmpeg = _ffmpeg_module()
        self.writer = ffmpeg.write_frames(str(self.tmp), size, fps=fps, codec=vcodec, quality=quality,
                                          macro_block_size=1, audio_path=str(audio) if audio else None,
                                          audio_codec=acodec if audio else None, ffmpeg_log_level="error",
                                          output_params=["-shortest"] if audio else None)
        self.writer.send(None)  # start ffmpeg

    def write(self, frame: np.ndarray, index: int) -> None:
        self.writer.send(np.ascontiguousarray(frame))

    def finish(self) -> list[str]:
        self.writer.close()
        os.chmod(self.tmp, atomic._MODE)
        os.replace(self.tmp, self.path)
        return [self.path.name]

    def abort(self) -> None:
        try:
            self.writer.close()
        except Exception:  # noqa: BLE001 - ffmpeg's own failure is already being reported
            pass
        self.tmp.unlink(missing_ok=True)


class _FolderSink:
    """Numbered PNGs in a hidden folder inside ``out``, renamed to ``out/frames`` when all are written."""

    def __init__(self, out: Path, model_name: str):
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.tmp = Path(tempfile.mkdtemp(prefix=".frames.", dir=out))
        self.text = {"artengine.model": model_name}
        self.names: list[str] = []

    def write(self, frame: np.ndarray, index: int) -> None:
        name = f"frame-{index:06d}.png"
        save_png(self.tmp / name, frame, {**self.text, "artengine.frame": str(index)})
        self.names.append(f"frames/{name}")

    def finish(self) -> list[str]:
        import shutil

        final = self.out / "frames"
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=".frames-old.", dir=self.out))
            os.replace(final, old / "frames")
            os.replace(self.tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, final)
        return self.names

    def abort(self) -> None:
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


# -------------------------------------------------------------------- the render


@dataclass
class SequenceResult:
    """What a sequence render wrote and how fast it ran."""

    out: Path
    files: list[str]
    frames: int
    fps: float
    size: tuple[int, int]
    audio: bool
    seconds: float
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def stylize_sequence(model: Any, source: str | Path, out: str | Path, *, max_side: int = 512, fps: float = 12.0,
                     deflicker: float = 0.0, deflicker_method: str = "flow", quality: float = 7.0,
                     progress: bool = True) -> SequenceResult:
    """Stylize every frame of ``source`` (video or frame folder) with ``model`` (an image-to-image
    :class:`~artengine.runtime.Model`) into ``out``: a video file (by suffix, with the source's audio)
    or a folder (``frames/frame-NNNNNN.png`` plus ``render.json``). Nothing is replaced unless all frames
    were written."""
    if model.kind != "image-to-image":
        raise ArtengineError(f"{model.path.name} is a generator; a video needs an image-to-image model "
                             "(export a `fast-style` run)")
    out = Path(out)
    to_video = out.suffix.lower() in OUTPUT_CODECS
    if not to_video and is_video_path(out):
        raise ArtengineError(f"--out {str(out)!r}: cannot write {out.suffix} videos; use "
                             f"{', '.join(sorted(OUTPUT_CODECS))} or a folder")
    if not to_video and out.is_file():
        raise ArtengineError(f"--out {str(out)!r} is a file; give a folder or a video file name")
    smoother = Deflicker(deflicker, deflicker_method)
    src = open_frames(source, fps=fps)
    sink: _VideoSink | _FolderSink | None = None
    size: tuple[int, int] = (0, 0)
    count = 0
    from tqdm import tqdm

    bar = tqdm(total=src.count, unit="frame", desc=f"stylize {Path(source).name}", disable=not progress,
               file=sys.stderr, mininterval=0.5)
    start = time.perf_counter()
    try:
        for frame in src.frames:
            if sink is None:
                size = fit_size(frame.shape[1], frame.shape[0], max_side)
                sink = (_VideoSink(out, size, src.fps, src.audio, quality) if to_video
                        else _FolderSink(out, model.path.name))
            frame = _resize(frame, size)
            styled = model.stylize(frame.transpose(2, 0, 1)[None].astype(np.float32) / 255.0)[0]
            styled = np.clip(styled.transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
            sink.write(smoother(frame, styled), count)
            count += 1
            bar.update(1)
        if sink is None:
            raise ArtengineError(f"--input {str(source)!r} has no frames")
        files = sink.finish()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    result = SequenceResult(out=out, files=files, frames=count, fps=src.fps, size=size, audio=src.audio is not None,
                            seconds=seconds)
    result.manifest = {"model": str(model.path), "kind": model.kind, "input": str(source), "frames": count,
                       "fps": src.fps, "size": list(size), "audio": result.audio, "deflicker": deflicker,
                       "deflicker_method": deflicker_method if deflicker > 0 else "off", "max_side": max_side,
                       "stylize_frames_per_second": round(result.frames_per_second, 2),
                       "providers": model.providers, "metadata": model.metadata, **src.info}
    if not to_video:
        result.manifest["images"] = files
        atomic.write_json(out / "render.json", result.manifest)
    return result
