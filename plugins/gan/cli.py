"""`artengine augment preview`: a grid of what the discriminator sees under an augmentation policy."""

from __future__ import annotations

import click

from .config import DEFAULT_AUGMENT_POLICY


@click.group("augment")
def augment_group() -> None:
    """Differentiable augmentation (what D sees while a GAN trains)."""


@augment_group.command("preview")
@click.option("--data", required=True, help="Dataset name or folder of images.")
@click.option("--augment", "policy", default=DEFAULT_AUGMENT_POLICY, show_default=True,
              help="Comma list of ops: color, brightness, saturation, contrast, translation, xint, cutout, "
                   "flip, rot90, geometric (auto: the default policy).")
@click.option("--p", "p", type=click.FloatRange(0.0, 1.0), default=0.5, show_default=True,
              help="Probability of each op per image (ADA's p).")
@click.option("--image-size", type=int, default=64, show_default=True)
@click.option("--n", "count", type=click.IntRange(1, 256), default=8, show_default=True,
              help="Training images shown (each in the top row, augmented versions below).")
@click.option("--rows", type=click.IntRange(1, 16), default=3, show_default=True, help="Augmented rows.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="PNG file to write.")
def preview_command(data: str, policy: str, p: float, image_size: int, count: int, rows: int, seed: int,
                    out: str) -> None:
    """Write a PNG grid: real images on top, their augmented versions (as D sees them) below."""
    import torch

    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve_data
    from artengine.training.samples import save_grid

    from .augment import Augment

    registry = get_registry()
    name, values = resolve_data(registry, data)
    dataset = registry.get("datasets", name).build(values, image_size=image_size, channels=0, seed=seed)
    pick = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:count]
    real = torch.stack([dataset[int(i)][0] for i in pick]).float().div(127.5).sub(1.0)
    augment = Augment(DEFAULT_AUGMENT_POLICY if policy == "auto" else policy, p)
    gen = torch.Generator().manual_seed(seed)
    rows_out = [real] + [augment(real, gen).clamp(-1, 1) for _ in range(rows)]
    path = save_grid(torch.cat(rows_out), out, nrow=real.shape[0])
    click.echo(str(path))
