"""The StyleGAN2 trainer: artengine's GAN trainer plus style mixing and path-length regularization.

Everything else is the GAN trainer's, reached through its documented extension points: lazy R1
(``trainer.r1_every``, 16 in the recipe), TTUR, the balance rule, PacGAN, EMA, mixed precision,
augmentation, exact resume, DDP, eval, sample grids, and rolled real images for a tileable
generator. What this subclass changes:

- :meth:`fake_images`: in ``style_mixing`` of the batches two latents are mixed at a random layer;
- :meth:`generator_loss`: adds path-length regularization every ``pl_every`` steps (optional);
- export: ``z`` + ``psi`` (truncation, a declared extra input) -> image, and on request the
  mapping and synthesis networks as two models (``export_parts``).
"""

from __future__ import annotations

from typing import Any

import torch

from artengine.plugins.gan.trainer import GanTrainer

from .export import StyleGanExport, export_parts, extra_inputs_meta
from .regularizers import path_length_penalty


class StyleGanTrainer(GanTrainer):
    def setup(self) -> None:
        super().setup()
        self.pl_mean = torch.zeros((), device=self.device)
        self.num_ws = int(self.G.num_ws)

    # -- what StyleGAN2 changes in a step -----------------------------------------------
    def mixing(self, n: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """A second latent batch and the layer it takes over from (``num_ws``: no mixing this time)."""
        if self.cfg.style_mixing <= 0 or self.num_ws < 2:
            return None, None
        draw = torch.rand((), device=self.device, generator=self.latent_rng)
        cut = torch.randint(1, self.num_ws, (), device=self.device, generator=self.latent_rng)
        z2 = self.sample_z(n)
        return z2, torch.where(draw < self.cfg.style_mixing, cut, torch.full_like(cut, self.num_ws))

    def fake_images(self, z: torch.Tensor, *, return_ws: bool = False):
        """Style-mixing regularization: the network cannot assume neighbouring layers share a style."""
        z2, crossover = self.mixing(z.shape[0])
        return self.G_train(z, z2=z2, crossover=crossover, return_ws=return_ws)

    def generator_loss(self, batch_size: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss, stats = super().generator_loss(batch_size)
        cfg = self.cfg
        if cfg.pl_weight > 0 and self.step % cfg.pl_every == 0:
            img, ws = self.fake_images(self.sample_z(max(1, batch_size // cfg.pl_batch_shrink)), return_ws=True)
            penalty, self.pl_mean = path_length_penalty(img, ws, self.pl_mean, cfg.pl_decay)
            loss = loss + cfg.pl_weight * cfg.pl_every * penalty
            stats["pl_penalty"] = penalty.detach()
        return loss, stats

    # -- state ----------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {**super().state_tensors(), "stylegan.pl_mean": self.pl_mean.detach().clone()}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        super().load_state(tensors, meta)
        if "stylegan.pl_mean" in tensors:
            self.pl_mean = tensors["stylegan.pl_mean"].to(self.device).clone()

    # -- export -----------------------------------------------------------------------------
    def export_meta(self) -> dict[str, Any]:
        """The GAN trainer's contract metadata plus the declared extra input ``psi`` and the W shape."""
        g = self.G
        return {**super().export_meta(), "extra_inputs": extra_inputs_meta(), "num_ws": int(g.num_ws),
                "w_dim": int(g.w_dim), "tileable": bool(g.tileable)}

    def export_model(self, ema: bool = True) -> tuple[torch.nn.Module, dict[str, Any]]:
        """``z`` + per-sample ``psi`` -> image in [0, 1]."""
        return StyleGanExport(self.sampler(ema)), self.export_meta()

    def export_parts(self, ema: bool = True) -> dict[str, tuple[torch.nn.Module, dict[str, Any]]]:
        """The mapping (``z``, ``psi`` -> ``w``) and synthesis (``ws`` -> ``image``) networks as
        separate models, for apps that mix styles or walk in W space (``artengine export --parts``)."""
        return export_parts(self.sampler(ema), self.export_meta())
