"""`artengine render MODEL.onnx --out DIR`: images from an exported model, with onnxruntime only."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("render")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(),
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
def render_command(model, out, n, seed, truncation, interpolate, frames, fps, formats, provider, source,
                   max_side, singles, deflicker, deflicker_method) -> None:
    """Render MODEL (an `artengine export` ONNX file): grid.png, one PNG per image, animations."""
    from ..errors import ArtengineError
    from ..render import render

    fmts = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("gif", "webp")]
    if bad:
        raise ArtengineError(f"--format {','.join(bad)} is not supported; use gif and/or webp")
    from ..runtime.video import wants_sequence

    if source is not None and wants_sequence(source, out, deflicker):
        _render_sequence(model, out, source, provider, max_side, fps, deflicker, deflicker_method)
        return
    if Path(out).is_file():
        raise ArtengineError(f"--out {out!r} is a file; give a folder to write images into")
    result = render(model, out, n=n, seed=seed, truncation=truncation, interpolate=interpolate, frames=frames,
                    fps=fps, provider=provider, formats=fmts, source=source, max_side=max_side,
                    singles=singles)
    click.echo(f"wrote {result.out / result.grid} and {len(result.images)} images"
               + (f", {', '.join(result.animations)}" if result.animations else "") + f" to {result.out}")


def _render_sequence(model, out, source, provider, max_side, fps, deflicker, deflicker_method) -> None:
    """A video or frame folder through an image-to-image model (artengine.runtime.video)."""
    from ..runtime import load_model
    from ..runtime.video import stylize_sequence

    result = stylize_sequence(load_model(model, provider=provider), source, out, max_side=max_side, fps=fps,
                              deflicker=deflicker, deflicker_method=deflicker_method)
    click.echo(f"wrote {result.out} ({result.frames} frames, {result.size[0]}x{result.size[1]} at {result.fps:g} "
               f"fps{', audio kept' if result.audio else ''}); stylized {result.frames_per_second:.1f} frames/s")


COMMANDS = (render_command,)
