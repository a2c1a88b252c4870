"""`artengine render MODEL.onnx --out DIR`: images from an exported model, with onnxruntime only."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("render")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--out", default=None, type=click.Path(),
              help="Folder to write images into (image-to-image models: or a video file, e.g. styled.mp4).")
@click.option("--n", "n", default=64, show_default=True, type=click.IntRange(1, 100000), help="Images to render.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Latent seed.")
@click.option("--truncation", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Resample latent values beyond this magnitude (0: off; 0.5-1 gives safer, less varied images).")
@click.option("--interpolate", default=0, show_default=True, type=click.IntRange(0, 64),
              help="Animate a slerp loop through K seeds (seed, seed+1, ...); 0: no animation.")
@click.option("--frames", default=24, show_default=True, type=click.IntRange(2, 1000),
              help="Frames per interpolation segment.")
@click.option("--fps", default=12, show_default=True, type=click.IntRange(1, 60),
              help="Animation frame rate (and the video rate of a frame folder).")
@click.option("--format", "formats", default="gif,webp", show_default=True, help="Animation formats: gif, webp.")
@click.option("--provider", default="cpu", show_default=True, type=click.Choice(["cpu", "cuda", "auto"]),
              help="onnxruntime execution provider.")
@click.option("--input", "source", type=click.Path(exists=True), default=None,
              help="Image-to-image models: a photo, a folder of photos or frames, or a video (clip.mp4).")
@click.option("--max-side", default=512, show_default=True, type=click.IntRange(0),
              help="Image-to-image models: shrink photos to this longest side (0: keep).")
@click.option("--singles/--no-singles", default=True, show_default=True,
              help="Also write each image as its own PNG (off: only grid.png and animations).")
@click.option("--deflicker", default=0.0, show_default=True, type=click.FloatRange(0, 0.95),
              help="Videos/frames: weight of the previous stylized frame blended into each new one (0: off).")
@click.option("--deflicker-method", default="flow", show_default=True, type=click.Choice(["flow", "blend"]),
              help="Videos/frames: warp the previous frame by optical flow (OpenCV Farneback) or blend it as is.")
@click.option("--psi", type=float, default=None,
              help="Truncation of a style-based model (its 'psi' control): 1 keeps every latent's own style, "
                   "0 gives the average image; the same as --control psi=VALUE.")
@click.option("--control", "control_items", multiple=True, metavar="NAME=VALUE",
              help="Set an extra input the model declares (see `artengine render MODEL --controls`).")
@click.option("--controls", "list_controls", is_flag=True, help="List the model's extra inputs and exit.")
@click.option("--style-mix", nargs=2, default=None, metavar="ROW_SEEDS COL_SEEDS",
              help="Write style-mix.png: e.g. --style-mix 1,2,3 10,11,12 mixes each row seed's coarse layers "
                   "with each column seed's finer ones (needs a model exported with --parts).")
@click.option("--crossover", default=None, type=click.IntRange(0), help="Style-mix: the first layer taken "
              "from the column seed (default: half the layers).")
@click.option("--walk-space", "space", default="auto", show_default=True, type=click.Choice(["auto", "z", "w"]),
              help="Where --interpolate walks: z (slerp) or w (straight lines; needs the --parts export); "
                   "auto: w when the parts are there.")
def render_command(model, out, n, seed, truncation, interpolate, frames, fps, formats, provider, source,
                   max_side, singles, deflicker, deflicker_method, psi, control_items, list_controls, style_mix,
                   crossover, space) -> None:
    """Render MODEL (an `artengine export` ONNX file): grid.png, one PNG per image, animations."""
    from ..errors import ArtengineError
    from ..render import render

    fmts = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("gif", "webp")]
    if bad:
        raise ArtengineError(f"--format {','.join(bad)} is not supported; use gif and/or webp")
    if list_controls:
        _print_controls(model)
        return
    if out is None:
        raise click.UsageError("Missing option '--out'.")
    controls = _parse_controls(control_items, psi)
    mix = _parse_style_mix(style_mix) if style_mix else None
    from ..runtime.video import wants_sequence

    if source is not None and wants_sequence(source, out, deflicker):
        _render_sequence(model, out, source, provider, max_side, fps, deflicker, deflicker_method)
        return
    if Path(out).is_file():
        raise ArtengineError(f"--out {out!r} is a file; give a folder to write images into")
    result = render(model, out, n=n, seed=seed, truncation=truncation, interpolate=interpolate, frames=frames,
                    fps=fps, provider=provider, formats=fmts, source=source, max_side=max_side,
                    singles=singles, controls=controls, style_mix=mix, crossover=crossover, space=space)
    click.echo(f"wrote {result.out / result.grid} and {len(result.images)} images"
               + (f", {', '.join(result.animations + result.sheets)}" if result.animations or result.sheets else "")
               + f" to {result.out}")


def _parse_controls(items: tuple[str, ...], psi: float | None) -> dict[str, float]:
    from ..errors import ArtengineError

    controls: dict[str, float] = {}
    for item in items:
        name, eq, value = item.partition("=")
        try:
            if not eq:
                raise ValueError
            controls[name.strip()] = float(value)
        except ValueError:
            raise ArtengineError(f"--control {item!r} needs NAME=NUMBER, e.g. --control psi=0.7") from None
    if psi is not None:
        controls["psi"] = psi
    return controls


def _parse_style_mix(pair: tuple[str, str]) -> tuple[list[int], list[int]]:
    from ..errors import ArtengineError

    seeds = []
    for text in pair:
        try:
            values = [int(s) for s in text.split(",") if s.strip()]
        except ValueError:
            values = []
        if not values or min(values) < 0:
            raise ArtengineError(f"--style-mix {text!r}: give comma-separated seeds, e.g. --style-mix 1,2,3 7,8,9")
        seeds.append(values)
    return seeds[0], seeds[1]


def _print_controls(path: str) -> None:
    from ..runtime import load_model

    model = load_model(path)
    if not model.extra_inputs:
        click.echo(f"{model.path.name} declares no controls")
    for spec in model.extra_inputs:
        click.echo(f"{spec.name}  {spec.type} in [{spec.min:g}, {spec.max:g}], default {spec.default:g}: "
                   f"{spec.description}")
    parts = model.part_paths()
    if parts:
        click.echo("parts: " + ", ".join(f"{role} ({p.name})" for role, p in parts.items()))


def _render_sequence(model, out, source, provider, max_side, fps, deflicker, deflicker_method) -> None:
    """A video or frame folder through an image-to-image model (artengine.runtime.video)."""
    from ..runtime import load_model
    from ..runtime.video import stylize_sequence

    result = stylize_sequence(load_model(model, provider=provider), source, out, max_side=max_side, fps=fps,
                              deflicker=deflicker, deflicker_method=deflicker_method)
    click.echo(f"wrote {result.out} ({result.frames} frames, {result.size[0]}x{result.size[1]} at {result.fps:g} "
               f"fps{', audio kept' if result.audio else ''}); stylized {result.frames_per_second:.1f} frames/s")


COMMANDS = (render_command,)
