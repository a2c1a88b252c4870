"""`artengine style CONTENT STYLE [STYLE...] --out OUT.png`: Gatys style transfer from the command line.

Importing this module does not import torch; the command body does.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click

from artengine.errors import ConfigError

from .configs import CONTENT_LAYERS, STYLE_LAYERS, StyleSettings


def _floats(text: str | None, what: str) -> list[float]:
    if not text:
        return []
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{what} must be comma-separated numbers, got {text!r}") from None


def _names(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not text:
        return default
    return tuple(v.strip() for v in text.split(",") if v.strip())


_DEFAULTS = StyleSettings()


@click.command("style")
@click.argument("content")
@click.argument("styles", nargs=-1, required=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output PNG (a .json sidecar and "
              ".gif animation are written next to it).")
@click.option("--size", type=click.IntRange(16, 8192), default=512, show_default=True,
              help="Long edge of the output in pixels (>= 512 runs coarse-to-fine).")
@click.option("--steps", type=click.IntRange(1), default=200, show_default=True,
              help="Optimizer iterations at the coarsest level (finer levels get half).")
@click.option("--init", default="content", show_default=True, help="content, noise, or an image file.")
@click.option("--optimizer", type=click.Choice(["lbfgs", "adam"]), default="lbfgs", show_default=True)
@click.option("--lr", type=float, default=0.02, show_default=True, help="Adam learning rate (pixels in [0,1]).")
@click.option("--content-weight", type=float, default=_DEFAULTS.content_weight, show_default=True)
@click.option("--style-weight", type=float, default=_DEFAULTS.style_weight, show_default=True)
@click.option("--tv-weight", type=float, default=_DEFAULTS.tv_weight, show_default=True)
@click.option("--style-blend", help="Blend weights of several style images, e.g. 0.7,0.3.")
@click.option("--style-scale", type=float, default=_DEFAULTS.style_scale, show_default=True,
              help="Style image size relative to the output (smaller: finer strokes).")
@click.option("--preserve-colors", is_flag=True, help="Transfer luminance only; keep the content's colours.")
@click.option("--features", default="auto", show_default=True,
              help="Feature extractor: auto, vgg19, vgg16, vgg16-hed (see `artengine list feature-extractors`).")
@click.option("--weights", type=click.Path(dir_okay=False), help="Weights file for the feature extractor.")
@click.option("--pooling", type=click.Choice(["max", "avg"]), default=_DEFAULTS.pooling, show_default=True)
@click.option("--content-layers", help=f"Comma-separated layers (default {','.join(CONTENT_LAYERS)}).")
@click.option("--style-layers", help=f"Comma-separated layers (default {','.join(STYLE_LAYERS)}).")
@click.option("--coarse-to-fine", "levels", type=click.IntRange(0, 6), default=0, show_default=True,
              help="Resolution levels (0: automatic, 2 from 384 px up, one more per doubling above 1024).")
@click.option("--snapshot-every", type=click.IntRange(0), default=0, show_default=True,
              help="Save a PNG every N iterations into OUT_snapshots/.")
@click.option("--no-animation", is_flag=True, help="Do not write the OUT.gif animation.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default="auto", show_default=True,
              help="bf16 autocast with channels-last (fast on CPUs with AMX and on GPUs); auto: bf16 where the "
                   "hardware runs it natively, fp32 elsewhere.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def style_command(content: str, styles: tuple[str, ...], out: str, size: int, steps: int, init: str,
                  optimizer: str, lr: float, content_weight: float, style_weight: float, tv_weight: float,
                  style_blend: str | None, style_scale: float, preserve_colors: bool, features: str,
                  weights: str | None, pooling: str, content_layers: str | None, style_layers: str | None,
                  levels: int, snapshot_every: int, no_animation: bool, precision: str, seed: int, device: str,
                  quiet: bool) -> None:
    """Redraw CONTENT in the style of STYLE (several styles blend).

    CONTENT and STYLE are image files or built-in names: astronaut, chelsea, coffee, rocket
    (scikit-image photos), starry-night, scream (public-domain paintings).
    """
    from pathlib import Path

    from artengine import config as cfg
    from artengine.pluginhost import get_registry
    from artengine.writable import ensure_writable_file

    from . import images as im
    from .gatys import StyleJob, save_outputs, stylize

    out_path = Path(out)
    if out_path.suffix.lower() != ".png":
        raise ConfigError(f"--out {out!r} must end in .png")
    ensure_writable_file(out_path)  # before minutes of optimizing, not after
    if precision == "auto":
        from artengine.training.precision import native_bf16, pick_device, precision_reason

        target = pick_device(device)
        precision = "bf16" if native_bf16(target) else "fp32"
        if not quiet:
            click.echo(f"precision: {precision}{' + channels-last' if precision == 'bf16' else ''} (auto: "
                       f"{precision_reason(target)})", err=True)
    settings = cfg.build(StyleSettings, {
        "features": features, "weights": weights or "", "pooling": pooling,
        "content_layers": _names(content_layers, CONTENT_LAYERS), "style_layers": _names(style_layers, STYLE_LAYERS),
        "content_weight": content_weight, "style_weight": style_weight, "tv_weight": tv_weight,
        "style_scale": style_scale,
    }, where="style ")
    job = StyleJob(
        content=im.resolve_image(content), styles=[im.resolve_image(s) for s in styles], settings=settings,
        blend=_floats(style_blend, "--style-blend"), size=size, steps=steps, init=init, optimizer=optimizer,
        lr=lr, preserve_colors=preserve_colors, coarse_to_fine=levels, snapshot_every=snapshot_every,
        frames=0 if no_animation else 24, precision=precision, channels_last=precision == "bf16",
        seed=seed, device=device,
    )
    if init not in ("content", "noise"):
        im.resolve_image(init)  # fail early on a missing init image
    bar = None

    def progress_factory(total: int):
        nonlocal bar
        if quiet:
            return None
        if not sys.stderr.isatty():  # a log file or a pipe: plain lines, not a bar redrawn with \r
            return plain_progress(total)
        from tqdm import tqdm

        bar = tqdm(total=total, unit="it", dynamic_ncols=True, file=sys.stderr, desc="style", mininterval=0.5)

        def update(step: int, losses: dict[str, float]) -> None:
            bar.update(step - bar.n)
            bar.set_postfix({k: f"{losses[k]:.3g}" for k in ("content", "style", "tv")}, refresh=False)

        return update

    registry = get_registry()
    try:
        from .features import choose_features

        _, why = choose_features(settings.features, settings.weights)
        if not quiet:
            click.echo(f"features: {why}", err=True)
        if precision == "bf16" and not quiet:
            from artengine.training.precision import cpu_has_bf16, pick_device

            if pick_device(device).type == "cpu" and not cpu_has_bf16():
                click.echo("note: this CPU has no native bf16 (AMX or AVX512-BF16), so bf16 runs slower than "
                           "fp32 here; it pays off on CUDA and on CPUs with AMX", err=True)
        result = stylize(job, registry, progress_factory)
    finally:
        if bar is not None:
            bar.close()
    sidecar = save_outputs(result, out_path, job, write_animation=not no_animation)
    if not quiet:
        losses = ", ".join(f"{k} {v:.4g}" for k, v in result.losses.items())
        click.echo(f"wrote {out_path} ({sidecar['width']}x{sidecar['height']}, {result.timings['total_s']:.1f} s; "
                   f"{losses})", err=True)
    click.echo(str(out_path))


#: seconds between two progress lines when stderr is not a terminal (as training's progress does)
PLAIN_EVERY_S = 30.0


def plain_progress(total: int, every_s: float = PLAIN_EVERY_S) -> Callable[[int, dict[str, float]], None]:
    """Progress for a log: one line when optimization starts, every ``every_s`` seconds, and at the end."""
    start = time.monotonic()
    last = [-float("inf")]

    def update(step: int, losses: dict[str, float]) -> None:
        now = time.monotonic()
        if now - last[0] < every_s and step < total:
            return
        last[0] = now
        parts = "  ".join(f"{k} {losses[k]:.3g}" for k in ("content", "style", "tv") if k in losses)
        click.echo(f"style: step {step}/{total}  {parts}  {now - start:.0f} s", err=True)

    return update
