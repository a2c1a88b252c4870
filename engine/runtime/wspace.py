"""The intermediate latent space of a style-based generator exported in two parts (torch-free).

``artengine export RUN --parts`` writes, next to ``model.onnx``, a ``mapping`` model (``z`` and its
controls -> ``w`` ``[n, w_dim]``) and a ``synthesis`` model (``ws`` ``[n, num_ws, w_dim]``, one w per
layer -> ``image``), named in the main model's ``artengine.parts`` metadata. With them an app can:

- mix styles: layers before a crossover take one latent's w, the rest another's (coarse shapes
  from the first, finer detail and colour from the second);
- walk in W, where straight lines give smoother morphs than in z.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ArtengineError
from .latents import latent
from .model import Model, load_model


class StyleSpace:
    """A mapping and a synthesis model used together."""

    def __init__(self, mapping: Model, synthesis: Model):
        if mapping.kind != "mapping" or synthesis.kind != "synthesis":
            raise ArtengineError(f"need a mapping and a synthesis model, got {mapping.kind} and {synthesis.kind}")
        self.mapping = mapping
        self.synthesis = synthesis
        shape = next(i.shape for i in synthesis.session.get_inputs() if i.name == "ws")
        self.num_ws, self.w_dim = int(shape[1]), int(shape[2])
        self.latent_dim = mapping.latent_dim

    @classmethod
    def of(cls, model: Model, *, provider: str = "cpu") -> StyleSpace:
        """The two parts exported beside ``model``; a clear error when it has none."""
        paths = model.part_paths()
        if not {"mapping", "synthesis"} <= set(paths):
            raise ArtengineError(f"{model.path.name} was exported without its mapping and synthesis parts",
                                 hint="export again with `artengine export RUN_DIR --out MODEL.onnx --parts`")
        for role in ("mapping", "synthesis"):
            if not paths[role].is_file():
                raise ArtengineError(f"the {role} part of {model.path.name} is missing: {str(paths[role])!r}",
                                     hint="keep the files `artengine export --parts` wrote together")
        return cls(load_model(paths["mapping"], provider=provider), load_model(paths["synthesis"], provider=provider))

    @property
    def controls(self):
        return self.mapping.controls

    def w(self, z: np.ndarray, controls: Mapping[str, Any] | None = None) -> np.ndarray:
        """``w`` ``[n, w_dim]`` for latents ``z``, with the mapping's controls (e.g. truncation)."""
        return self.mapping.generate(z, controls=dict(controls or {}))

    def w_of_seeds(self, seeds: list[int], controls: Mapping[str, Any] | None = None) -> np.ndarray:
        """The w of each seed's first latent (``latent(seed, 0)``, as render draws it)."""
        return self.w(np.stack([latent(s, 0, self.latent_dim) for s in seeds]), controls)

    def images(self, w: np.ndarray) -> np.ndarray:
        """Images for ``w`` ``[n, w_dim]`` (the same w for every layer) or ``ws`` ``[n, num_ws, w_dim]``."""
        w = np.asarray(w, dtype=np.float32)
        ws = np.repeat(w[:, None], self.num_ws, axis=1) if w.ndim == 2 else w
        return self.synthesis.synthesize(ws)

    def check_crossover(self, crossover: int) -> int:
        if not 0 <= crossover <= self.num_ws:
            raise ArtengineError(f"--crossover must lie in [0, {self.num_ws}] for this model ({self.num_ws} "
                                 f"style layers), got {crossover}")
        return crossover

    def mix(self, w_first: np.ndarray, w_second: np.ndarray, crossover: int) -> np.ndarray:
        """``ws`` whose layers ``< crossover`` come from ``w_first`` and the rest from ``w_second``."""
        self.check_crossover(crossover)
        layer = np.arange(self.num_ws)[None, :, None]
        return np.where(layer < crossover, w_first[:, None], w_second[:, None]).astype(np.float32)

    def style_mix_grid(self, row_seeds: list[int], col_seeds: list[int], crossover: int,
                       controls: Mapping[str, Any] | None = None) -> np.ndarray:
        """The classic style-mixing figure as ``[(R+1)*(C+1), C, H, W]`` images in [0, 1], row-major:
        a blank corner, the column seeds' images along the top, the row seeds' down the left, and in
        cell (r, c) row seed r's coarse layers (before ``crossover``) with column seed c's others."""
        w_rows, w_cols = self.w_of_seeds(row_seeds, controls), self.w_of_seeds(col_seeds, controls)
        rows, cols = len(row_seeds), len(col_seeds)
        first = np.repeat(w_rows, cols, axis=0)
        second = np.tile(w_cols, (rows, 1))
        cells = self.synthesis.synthesize(self.mix(first, second, crossover))
        tops, lefts = self.images(w_cols), self.images(w_rows)
        blank = np.ones_like(tops[:1])
        out = [np.concatenate([blank, tops])]
        for r in range(rows):
            out.append(np.concatenate([lefts[r:r + 1], cells[r * cols:(r + 1) * cols]]))
        return np.concatenate(out)


def w_path(keys: np.ndarray, frames: int) -> np.ndarray:
    """A looping walk through ``keys`` ``[K, w_dim]`` in W: straight lines, ``frames`` steps per segment
    (W is not Gaussian, so the z-space slerp does not apply)."""
    k = len(keys)
    steps = [(1 - f / frames) * keys[i] + (f / frames) * keys[(i + 1) % k] for i in range(k) for f in range(frames)]
    return np.stack(steps).astype(np.float32)
