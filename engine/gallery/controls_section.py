"""The gallery's pictures of what a model lets you control, read from its metadata alone.

- a strip per declared extra input (``artengine.extra_inputs``): a few seeds, the control swept from
  its min to its max (for StyleGAN's ``psi``: the truncation strip);
- the style-mixing grid when the model was exported with its mapping and synthesis parts;
- a 3x3 tiling of a few samples when the model says it is ``tileable``.

Nothing here knows what StyleGAN is: a model declaring other controls gets strips of those.
"""

from __future__ import annotations

import numpy as np

from ..runtime import latents
from ..runtime.images import grid, png_bytes, to_uint8
from ..runtime.wspace import StyleSpace
from . import html as h
from .entries import Builder, Work

SWEEP = 6  # values per control strip
ROWS = 4  # seeds per strip and per side of the mixing grid
TILED = 3  # samples shown tiled 3x3


def control_strips(b: Builder, model, folder: str, owner: str) -> tuple[list[str], list[Work]]:
    parts: list[str] = []
    works: list[Work] = []
    seed = b.opts.seed
    z = latents(seed, ROWS, model.latent_dim)
    for spec in model.extra_inputs:
        values = np.linspace(spec.min, spec.max, SWEEP, dtype=np.float32)
        zs = np.repeat(z, SWEEP, axis=0)
        images = to_uint8(model.generate(zs, controls={spec.name: np.tile(values, ROWS)}))
        rel = b.put(f"{folder}/control-{spec.name}.png", png_bytes(grid(images, ncol=SWEEP)))
        about = (f"{spec.name} from {spec.min:g} (left) to {spec.max:g} (right) for seeds {seed}..{seed + ROWS - 1} "
                 f"(each row one latent): {spec.description}")
        parts.append(h.figure(rel, about, details=f"artengine render {model.path.name} --{spec.name} VALUE"
                              if spec.name == "psi" else f"artengine render {model.path.name} --control "
                              f"{spec.name}=VALUE"))
        works.append(Work(h.image(rel, f"{owner}: {spec.name} sweep", caption=f"{owner}\n{about}"), about))
    return parts, works


def style_mix_grid(b: Builder, model, folder: str, owner: str) -> tuple[list[str], list[Work]]:
    paths = model.part_paths()
    if not ({"mapping", "synthesis"} <= set(paths) and all(p.is_file() for p in paths.values())):
        return [], []
    styles = StyleSpace.of(model, provider=b.opts.provider)
    seed, k = b.opts.seed, styles.num_ws // 2
    rows = list(range(seed, seed + ROWS))
    cols = list(range(seed + ROWS, seed + 2 * ROWS))
    images = to_uint8(styles.style_mix_grid(rows, cols, k))
    rel = b.put(f"{folder}/style-mix.png", png_bytes(grid(images, ncol=ROWS + 1)))
    about = (f"style mixing: each cell takes its row seed's first {k} of {styles.num_ws} style layers (coarse "
             "shapes) and its column seed's others (finer detail and colour)")
    cmd = (f"artengine render {model.path.name} --style-mix {','.join(map(str, rows))} "
           f"{','.join(map(str, cols))} --crossover {k}")
    return [h.figure(rel, about, details=cmd)], [Work(h.image(rel, f"{owner}: style mixing",
                                                               caption=f"{owner}\n{about}"), about)]


def tiling(b: Builder, model, folder: str, owner: str) -> tuple[list[str], list[Work]]:
    if model.metadata.get("tileable", "").lower() != "true":
        return [], []
    images = to_uint8(model.generate(latents(b.opts.seed, TILED, model.latent_dim)))
    tiles = [np.tile(img, (3, 3, 1)) for img in images]
    rel = b.put(f"{folder}/tiles.png", png_bytes(grid(np.stack(tiles), ncol=TILED)))
    about = f"{TILED} samples, each tiled 3x3: a tileable model's images wrap around without a seam"
    return [h.figure(rel, about)], [Work(h.image(rel, f"{owner}: tiled", caption=f"{owner}\n{about}"), about)]


def control_sections(b: Builder, model, folder: str, owner: str) -> tuple[list[str], list[Work]]:
    """Every picture above that applies to ``model`` (none for a plain generator)."""
    parts: list[str] = []
    works: list[Work] = []
    for make in (control_strips, style_mix_grid, tiling):
        p, w = make(b, model, folder, owner)
        parts += p
        works += w
    return parts, works
