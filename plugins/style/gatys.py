"""Gatys et al. style transfer: optimize the pixels of one image against the style recipe.

One call of :func:`stylize` runs coarse-to-fine: each level starts from the previous level's
result upscaled, so large outputs (1024 px and more) converge in few expensive iterations.
L-BFGS (default) or Adam; snapshots and animation frames are taken along the way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from artengine.errors import ArtengineError
from artengine.registry import Registry
from artengine.training.precision import autocast, pick_device

from . import images as im
from .recipe import StyleObjective


class OutOfMemoryError(ArtengineError):
    """The requested size does not fit into the device's memory."""


@dataclass
class StyleJob:
    """Everything `artengine style` was asked to do."""

    content: im.ImageRef
    styles: list[im.ImageRef]
    settings: object  # configs.StyleSettings
    blend: list[float] = field(default_factory=list)
    size: int = 512
    steps: int = 300
    init: str = "content"  # content | noise | a file path
    optimizer: str = "lbfgs"
    lr: float = 0.02
    preserve_colors: bool = False
    coarse_to_fine: int = 0  # levels: 0 = auto
    snapshot_every: int = 0
    frames: int = 24
    precision: str = "fp32"
    channels_last: bool = False
    seed: int = 0
    device: str = "auto"


@dataclass
class StyleResult:
    image: torch.Tensor
    losses: dict[str, float]
    history: list[dict[str, float]]
    frames: list[torch.Tensor]
    snapshots: list[tuple[int, torch.Tensor]]
    levels: list[dict]
    features: dict
    timings: dict[str, float]


def level_sizes(size: int, levels: int) -> list[int]:
    """Long-edge sizes from coarse to fine; ``levels`` 0 picks one level per doubling above 512 px,
    and two levels (half, full) from 512 px up, where a coarse pass is cheap and helps."""
    if levels <= 0:
        levels = 1 if size < 384 else 2 + max(0, math.ceil(math.log2(size / 1024)))
    return [max(32, round(size / 2 ** (levels - 1 - i))) for i in range(levels)]


def level_steps(steps: int, n_levels: int) -> list[int]:
    """The full budget at the coarsest level, then half as many at each finer one (each level
    starts close to its optimum, and finer levels cost 4x as much per step)."""
    if n_levels == 1:
        return [steps]
    return [steps] + [max(1, steps // 2)] * (n_levels - 1)


def available_memory(device: torch.device) -> int:
    """Bytes free for activations on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            info = dict(line.split(":", 1) for line in fh)
        return int(info["MemAvailable"].strip().split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 8 << 30


def estimate_memory(objective: StyleObjective, height: int, width: int, precision: str) -> int:
    """Peak bytes of one forward + backward at (height, width): every layer's output is kept for
    the backward pass, and the backward needs about as much again."""
    elem = 2 if precision in ("bf16", "fp16") else 4
    channels = 3
    h, w = height, width
    total = 0
    for name, layer in zip(objective.extractor.layer_names, objective.extractor.layers, strict=True):
        if name.startswith("conv"):
            channels = layer.out_channels
        elif name.startswith("pool"):
            h, w = math.ceil(h / 2), math.ceil(w / 2)
        total += channels * h * w
    return int(total * elem * 2.5) + 64 * height * width


def check_memory(objective: StyleObjective, size: tuple[int, int], precision: str, device: torch.device) -> None:
    need = estimate_memory(objective, *size, precision)
    free = available_memory(device)
    if need > 0.85 * free:
        scale = math.sqrt(0.85 * free / need)
        largest = int(max(size) * scale) // 16 * 16
        raise OutOfMemoryError(
            f"a {size[1]}x{size[0]} image needs about {need / 2**30:.1f} GiB on {device.type}, "
            f"but only {free / 2**30:.1f} GiB are free; the largest that fits is about --size {largest}",
            hint="use a smaller --size, --precision bf16, or fewer/earlier --style-layers")


def _noise_like(image: torch.Tensor, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(image.shape, generator=g).to(image)


class _Runner:
    """Optimizes one level; counts evaluations, updates the progress bar, takes frames."""

    def __init__(self, job: StyleJob, objective: StyleObjective, device: torch.device,
                 progress: Callable[[int, dict[str, float]], None] | None, frame_every: int,
                 step_offset: int, to_output: Callable[[torch.Tensor], torch.Tensor]):
        self.job = job
        self.objective = objective
        self.device = device
        self.progress = progress
        self.frame_every = frame_every
        self.step = step_offset
        self.to_output = to_output
        self.history: list[dict[str, float]] = []
        self.frames: list[torch.Tensor] = []
        self.snapshots: list[tuple[int, torch.Tensor]] = []
        self.last: dict[str, float] = {}

    def evaluate(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.job.channels_last:  # the parameter stays NCHW (L-BFGS flattens its gradient)
            image = image.contiguous(memory_format=torch.channels_last)
        with autocast(self.device, self.job.precision):
            total, parts = self.objective(image)
        return total, parts

    def record(self, image: torch.Tensor, total: torch.Tensor, parts: dict[str, torch.Tensor]) -> None:
        self.step += 1
        self.last = {"total": total.item(), **{k: v.item() for k, v in parts.items()}}
        self.history.append({"step": self.step, **self.last})
        if self.progress is not None:
            self.progress(self.step, self.last)
        if self.frame_every and self.step % self.frame_every == 0:
            self.frames.append(_thumbnail(self.to_output(image.detach())))
        if self.job.snapshot_every and self.step % self.job.snapshot_every == 0:
            self.snapshots.append((self.step, self.to_output(image.detach()).cpu()))

    def run(self, image: torch.Tensor, steps: int) -> torch.Tensor:
        image = image.detach().clone().requires_grad_(True)
        if self.job.optimizer == "adam":
            opt = torch.optim.Adam([image], lr=self.job.lr)
            for _ in range(steps):
                opt.zero_grad(set_to_none=True)
                total, parts = self.evaluate(image)
                total.backward()
                opt.step()
                with torch.no_grad():
                    image.clamp_(0, 1)
                self.record(image, total, parts)
            return image.detach()
        opt = torch.optim.LBFGS([image], lr=1.0, max_iter=steps, max_eval=steps, history_size=50,
                                tolerance_grad=-1.0, tolerance_change=-1.0)
        count = 0

        def closure() -> torch.Tensor:
            nonlocal count
            opt.zero_grad(set_to_none=True)
            total, parts = self.evaluate(image)
            total.backward()
            count += 1
            self.record(image, total, parts)
            return total

        while count < steps:
            before = count
            opt.step(closure)
            if count == before:
                break
        return image.detach()


def _thumbnail(image: torch.Tensor, long_edge: int = 256) -> torch.Tensor:
    h, w = image.shape[-2:]
    if max(h, w) > long_edge:
        image = im.resize(image.float(), im.fit_size(h, w, long_edge))
    return image.float().clamp(0, 1).cpu()


def stylize(job: StyleJob, registry: Registry,
            progress_factory: Callable[[int], Callable[[int, dict[str, float]], None]] | None = None
            ) -> StyleResult:
    """Run the whole job; ``progress_factory(total_steps)`` returns a per-step callback."""
    t_start = time.perf_counter()
    device = pick_device(job.device)
    torch.manual_seed(job.seed)
    blend = job.blend or [1.0] * len(job.styles)
    if len(blend) != len(job.styles):
        raise ArtengineError(f"--style-blend has {len(blend)} weights for {len(job.styles)} style images",
                             hint="give one weight per style image, e.g. --style-blend 0.7,0.3")
    if any(w < 0 for w in blend) or sum(blend) <= 0:
        raise ArtengineError("--style-blend weights must be >= 0 and not all 0")

    content_full = im.load_image(job.content)
    style_full = [im.load_image(ref) for ref in job.styles]
    init_full = None
    if job.init not in ("content", "noise"):
        init_full = im.load_image(im.resolve_image(job.init))

    objective = StyleObjective(registry, job.settings).to(device)
    if job.channels_last:
        objective.extractor.to(memory_format=torch.channels_last)
    height, width = im.fit_size(*content_full.shape[-2:], job.size)
    check_memory(objective, (height, width), job.precision, device)

    sizes = level_sizes(job.size, job.coarse_to_fine)
    steps = level_steps(job.steps, len(sizes))
    total_steps = sum(steps)
    progress = progress_factory(total_steps) if progress_factory else None
    frame_every = max(1, total_steps // job.frames) if job.frames else 0

    def to_output(image: torch.Tensor) -> torch.Tensor:
        image = image.float().clamp(0, 1)
        if job.preserve_colors:
            content_here = im.resize(content_full.to(image.device), tuple(image.shape[-2:]))
            image = im.with_content_colors(im.rgb_to_yiq(image)[:, :1], content_here).clamp(0, 1)
        return image

    image = None
    history: list[dict[str, float]] = []
    frames: list[torch.Tensor] = []
    snapshots: list[tuple[int, torch.Tensor]] = []
    levels: list[dict] = []
    setup_s = time.perf_counter() - t_start
    step_offset = 0
    optimize_s = 0.0
    for size, n_steps in zip(sizes, steps, strict=True):
        t_level = time.perf_counter()
        hw = im.fit_size(height, width, size)
        content = im.resize(content_full, hw).to(device)
        styles = []
        for s in style_full:
            shw = im.fit_size(*s.shape[-2:], max(16, round(size * job.settings.style_scale)))
            styles.append(im.resize(s, shw).to(device))
        if job.preserve_colors:
            content = im.luminance(content)
            styles = [im.match_luminance(im.luminance(s), content) for s in styles]
        if job.channels_last:
            content = content.contiguous(memory_format=torch.channels_last)
            styles = [s.contiguous(memory_format=torch.channels_last) for s in styles]
        with autocast(device, job.precision):
            objective.set_content(content)
            objective.set_styles(styles, blend)
        if image is None:
            if job.init == "content":
                image = content.clone()
            elif job.init == "noise":
                image = _noise_like(content, job.seed)
            else:
                image = im.resize(init_full, hw).to(device)
                if job.preserve_colors:
                    image = im.luminance(image)
        else:
            image = F.interpolate(image, size=hw, mode="bicubic", align_corners=False).clamp(0, 1)
        image = image.contiguous()
        runner = _Runner(job, objective, device, progress, frame_every, step_offset, to_output)
        if not frames and frame_every:
            runner.frames.append(_thumbnail(to_output(image)))
        t_opt = time.perf_counter()
        image = runner.run(image, n_steps)
        optimize_s += time.perf_counter() - t_opt
        step_offset = runner.step
        history += runner.history
        frames += runner.frames
        snapshots += runner.snapshots
        levels.append({"height": hw[0], "width": hw[1], "steps": len(runner.history),
                       "seconds": round(time.perf_counter() - t_level, 3),
                       "seconds_per_step": round((time.perf_counter() - t_opt) / max(1, len(runner.history)), 4)})
    output = to_output(image)
    if frames:
        frames.append(_thumbnail(output))
    losses = dict(history[-1]) if history else {}
    losses.pop("step", None)
    total_s = time.perf_counter() - t_start
    return StyleResult(image=output.cpu(), losses=losses, history=history, frames=frames,
                       snapshots=snapshots, levels=levels,
                       features={**objective.extractor.describe(), "why": objective.features_why},
                       timings={"total_s": round(total_s, 3), "setup_s": round(setup_s, 3),
                                "optimize_s": round(optimize_s, 3),
                                "per_step_s": round(optimize_s / max(1, len(history)), 4)})


def _save_content_beside(out: Path, content_path: str, width: int, height: int) -> str:
    """The content photo at the result's size, as OUT_content.png beside the result: the gallery's
    before/after slider then reads a file inside the result's own folder (it refuses paths outside it)."""
    from PIL import Image

    from artengine import atomic

    name = f"{out.stem}_content.png"
    with Image.open(content_path) as photo:
        photo = photo.convert("RGB").resize((int(width), int(height)), Image.Resampling.LANCZOS)
        atomic.write_with(out.with_name(name), lambda fh: photo.save(fh, format="PNG"))
    return name


def save_outputs(result: StyleResult, out: Path, job: StyleJob, *, write_animation: bool = True) -> dict:
    """Write OUT.png, snapshots, OUT.gif and the OUT.json sidecar (all atomic); returns the sidecar."""
    import datetime

    from artengine import atomic
    from artengine.provenance import library_versions

    out = Path(out)
    atomic.write_with(out, lambda fh: im.to_pil(result.image).save(fh, format="PNG"))
    snapshot_names = []
    if result.snapshots:
        folder = out.with_name(out.stem + "_snapshots")
        for step, image in result.snapshots:
            path = folder / f"step-{step:05d}.png"
            atomic.write_with(path, lambda fh, image=image: im.to_pil(image).save(fh, format="PNG"))
            snapshot_names.append({"step": step, "path": str(path.relative_to(out.parent))})
    animation = None
    if write_animation and len(result.frames) > 1:
        gif = out.with_suffix(".gif")
        size = result.frames[-1].shape[-2:]
        pil_frames = [im.to_pil(im.resize(f, tuple(size))) for f in result.frames]
        durations = [120] * (len(pil_frames) - 1) + [1500]

        def write_gif(fh) -> None:
            pil_frames[0].save(fh, format="GIF", save_all=True, append_images=pil_frames[1:],
                               duration=durations, loop=0, optimize=True)

        atomic.write_with(gif, write_gif)
        animation = gif.name
    styles = []
    blend = job.blend or [1.0] * len(job.styles)
    for ref, weight in zip(job.styles, blend, strict=True):
        styles.append({**ref.describe(), "weight": weight})
    s = job.settings
    sidecar = {
        "kind": "style-transfer",
        "image": out.name,
        "width": int(result.image.shape[-1]),
        "height": int(result.image.shape[-2]),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "content": {**job.content.describe(), "original": job.content.path,
                    "path": _save_content_beside(out, job.content.path, result.image.shape[-1],
                                                 result.image.shape[-2])},
        "styles": styles,
        "settings": {
            "size": job.size, "steps": job.steps, "init": job.init, "optimizer": job.optimizer,
            "lr": job.lr if job.optimizer == "adam" else None,
            "content_weight": s.content_weight, "style_weight": s.style_weight, "tv_weight": s.tv_weight,
            "style_scale": s.style_scale, "preserve_colors": job.preserve_colors,
            "content_layers": list(s.content_layers), "style_layers": list(s.style_layers),
            "content_loss": s.content_loss, "style_loss": s.style_loss, "tv_loss": s.tv_loss,
            "pooling": s.pooling, "precision": job.precision, "channels_last": job.channels_last,
            "device": job.device, "seed": job.seed,
        },
        "levels": result.levels,
        "features": result.features,
        "losses": {k: round(v, 6) for k, v in result.losses.items()},
        "loss_history": [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
                         for row in result.history[:: max(1, len(result.history) // 100)]],
        "timings": result.timings,
        "snapshots": snapshot_names,
        "animation": animation,
        "versions": library_versions(),
    }
    atomic.write_json(out.with_suffix(".json"), sidecar)
    return sidecar
