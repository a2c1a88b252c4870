"""`artengine gallery build [SOURCES...] --out gallery/`: a static site of runs, models and style results."""

from __future__ import annotations

import click


@click.group("gallery")
def gallery_group() -> None:
    """Static HTML galleries that open from the file system."""


@gallery_group.command("build")
@click.argument("sources", nargs=-1, type=click.Path(exists=True))
@click.option("--out", default="gallery", show_default=True, type=click.Path(file_okay=False),
              help="Folder of the site (index.html plus one page per source).")
@click.option("--n", "n", default=36, show_default=True, type=click.IntRange(1, 1024), help="Images per model grid.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Latent seed for models.")
@click.option("--interpolate", default=4, show_default=True, type=click.IntRange(0, 64),
              help="Seeds in each model's interpolation loop (0: none).")
@click.option("--frames", default=12, show_default=True, type=click.IntRange(2, 240), help="Frames per segment.")
@click.option("--photos", type=click.Path(exists=True), default=None,
              help="Photos to run image-to-image models on.")
@click.option("--provider", default="cpu", show_default=True, type=click.Choice(["cpu", "cuda", "auto"]))
@click.option("--title", default="artengine gallery", show_default=True)
def build_command(sources, out, n, seed, interpolate, frames, photos, provider, title) -> None:
    """Build a gallery from SOURCES: run folders, .onnx models, style results (default: ./runs)."""
    from ..gallery import build_gallery

    index = build_gallery(list(sources) or ["runs"], out, n=n, seed=seed, interpolate=interpolate, frames=frames,
                          photos=photos, provider=provider, title=title,
                          warn=lambda text: click.echo(text, err=True))
    click.echo(f"wrote {index} (open it in a browser)")


COMMANDS = (gallery_group,)
