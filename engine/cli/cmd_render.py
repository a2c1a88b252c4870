"""`artengine render MODEL.onnx --out DIR`: images from an exported model, with onnxruntime only."""

from __future__ import annotations

import click


@click.command("render")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write images into.")
@click.option("--n", "n", default=64, show_default=True, type=click.IntRange(1, 100000), help="Images to render.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Latent seed.")
@click.option("--truncation", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Resample latent values beyond this magnitude (0: off; 0.5-1 gives safer, less varied images).")
@click.option("--interpolate", default=0, show_default=True, type=click.IntRange(0, 64),
              help="Animate a slerp loop through K seeds (seed, seed+1, ...); 0: no animation.")
@click.option("--frames", default=24, show_default=True, type=click.IntRange(2, 1000),
              help="Frames per interpolation segment.")
@click.option("--fps", default=12, show_default=True, type=click.IntRange(1, 60), help="Animation frame rate.")
@click.option("--format", "formats", default="gif,webp", show_default=True, help="Animation formats: gif, webp.")
@click.option("--provider", default="cpu", show_default=True, type=click.Choice(["cpu", "cuda", "auto"]),
              help="onnxruntime execution provider.")
@click.option("--input", "source", type=click.Path(exists=True), default=None,
              help="Image-to-image models: a photo or a folder of photos.")
@click.option("--max-side", default=512, show_default=True, type=click.IntRange(0),
              help="Image-to-image models: shrink photos to this longest side (0: keep).")
@click.option("--singles/--no-singles", default=True, show_default=True,
              help="Also write each image as its own PNG (off: only grid.png and animations).")
def render_command(model, out, n, seed, truncation, interpolate, frames, fps, formats, provider, source,
                   max_side, singles) -> None:
    """Render MODEL (an `artengine export` ONNX file): grid.png, one PNG per image, animations."""
    from ..errors import ArtengineError
    from ..render import render

    fmts = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("gif", "webp")]
    if bad:
        raise ArtengineError(f"--format {','.join(bad)} is not supported; use gif and/or webp")
    result = render(model, out, n=n, seed=seed, truncation=truncation, interpolate=interpolate, frames=frames,
                    fps=fps, provider=provider, formats=fmts, source=source, max_side=max_side,
                    singles=singles)
    click.echo(f"wrote {result.out / result.grid} and {len(result.images)} images"
               + (f", {', '.join(result.animations)}" if result.animations else "") + f" to {result.out}")


COMMANDS = (render_command,)
