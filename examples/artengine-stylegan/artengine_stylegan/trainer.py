"""The StyleGAN2 trainer: artengine's GAN trainer plus lazy R1, style mixing and path-length regularization.

Everything else (TTUR, balance rule, PacGAN, EMA, mixed precision, exact resume, DDP, eval, sample
grids) is the GAN trainer's, reached through its public methods. What StyleGAN2 changes:

- fakes come from two latents mixed at a random layer in ``style_mixing`` of the batches;
- R1 is applied every ``r1_interval`` steps with its weight multiplied by the interval (lazy
  regularization: the same expected penalty at a fraction of the cost);
- path-length regularization (optional) every ``pl_interval`` steps, also scaled;
- a tileable generator gets real images rolled by a random offset, so reals wrap around as its
  images do.
"""

from __future__ import annotations

from typing import Any

import torch

from artengine.plugins.gan.trainer import GanTrainer

from .config import StyleGanTrainerConfig
from .export import StyleGanExport, export_parts, extra_inputs_meta
from .regularizers import path_length_penalty, random_roll


class StyleGanTrainer(GanTrainer):
    Config = StyleGanTrainerConfig

    def setup(self) -> None:
        super().setup()
        self.pl_mean = torch.zeros((), device=self.device)
        self.num_ws = int(self.G.num_ws)

    # -- what StyleGAN2 changes in a step -----------------------------------------------
    def generate_fakes(self, n: int, *, return_ws: bool = False):
        """Fakes from ``n`` latents; in ``style_mixing`` of the calls a second latent takes over from a
        random layer on, so the network cannot assume neighbouring layers share a style."""
        z = self.sample_z(n)
        z2 = crossover = None
        if self.cfg.style_mixing > 0:
            draw = torch.rand((), device=self.device, generator=self.latent_rng)
            cut = torch.randint(1, self.num_ws, (), device=self.device, generator=self.latent_rng)
            z2 = self.sample_z(n)
            crossover = torch.where(draw < self.cfg.style_mixing, cut, torch.full_like(cut, self.num_ws))
        return self.G_train(z, z2=z2, crossover=crossover, return_ws=return_ws)

    def is_due(self, interval: int) -> bool:
        return interval > 0 and self.step % interval == 0

    def prepare_real(self, real: torch.Tensor) -> torch.Tensor:
        if self.cfg.roll_real and getattr(self.G, "tileable", False):
            return random_roll(real, self.latent_rng)
        return real

    def discriminator_step(self, real: torch.Tensor, log_norms: bool = False) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        real = self.prepare_real(real)
        with self.autocast():
            with torch.no_grad():
                fake = self.generate_fakes(real.shape[0])
            d_real = self.D_train(real).float()
            d_fake = self.D_train(fake).float()
            loss = self.loss.d_loss(d_real, d_fake, real_target=1.0 - cfg.label_smoothing)
        stats = {"loss_d": loss, "d_real": d_real.mean(), "d_fake": d_fake.mean()}
        if self.balance_skip(loss):
            self.d_skips += 1
            stats["d_skipped"] = loss.new_ones(())
            return stats
        with self.autocast():
            penalty = self.loss.penalty(self.D_train, real, fake)
            if cfg.r1_gamma > 0 and self.is_due(cfg.r1_interval):
                r1 = self.r1(real)
                penalty = penalty + 0.5 * cfg.r1_gamma * cfg.r1_interval * r1
                stats["r1"] = r1.detach()
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(loss + penalty).backward()
        if log_norms:
            self.scaler_d.unscale_(self.opt_d)
            stats["grad_norm_d"] = _grad_norm(self.D)
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        stats["penalty"] = penalty.detach().float()
        stats["d_skipped"] = loss.new_zeros(())
        return stats

    def r1(self, real: torch.Tensor) -> torch.Tensor:
        from artengine.plugins.gan.losses import r1_penalty

        return r1_penalty(self.D_train, real)

    def generator_step(self, batch_size: int, log_norms: bool = False) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        frozen = not isinstance(self.D_train, torch.nn.parallel.DistributedDataParallel)
        if frozen:
            self.D.requires_grad_(False)
        with self.autocast():
            fake = self.generate_fakes(batch_size)
            loss = self.loss.g_loss(self.D_train(fake).float())
        total = loss
        stats = {"loss_g": loss}
        if cfg.pl_weight > 0 and self.is_due(cfg.pl_interval):
            n = max(1, batch_size // cfg.pl_batch_shrink)
            img, ws = self.generate_fakes(n, return_ws=True)
            penalty, self.pl_mean = path_length_penalty(img, ws, self.pl_mean, cfg.pl_decay)
            total = total + cfg.pl_weight * cfg.pl_interval * penalty
            stats["pl_penalty"] = penalty.detach()
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(total).backward()
        if log_norms:
            self.scaler_g.unscale_(self.opt_g)
            stats["grad_norm_g"] = _grad_norm(self.G)
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        if frozen:
            self.D.requires_grad_(True)
        return stats

    # -- state ----------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {**super().state_tensors(), "stylegan.pl_mean": self.pl_mean.detach().clone()}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        super().load_state(tensors, meta)
        if "stylegan.pl_mean" in tensors:
            self.pl_mean = tensors["stylegan.pl_mean"].to(self.device).clone()

    # -- export -----------------------------------------------------------------------------
    def export_model(self, ema: bool = True) -> tuple[torch.nn.Module, dict[str, Any]]:
        """``z`` + per-sample ``psi`` -> image in [0, 1]; the metadata declares ``psi`` as an extra input."""
        module, meta = super().export_model(ema=ema)
        generator = module.generator
        meta.update({"extra_inputs": extra_inputs_meta(), "num_ws": int(generator.num_ws),
                     "w_dim": int(generator.w_dim), "tileable": bool(generator.tileable)})
        return StyleGanExport(generator), meta

    def export_parts(self, ema: bool = True) -> dict[str, tuple[torch.nn.Module, dict[str, Any]]]:
        """The mapping (``z``, ``psi`` -> ``w``) and synthesis (``ws`` -> ``image``) networks as
        separate models, for apps that mix styles or walk in W space."""
        module, meta = self.export_model(ema=ema)
        return export_parts(module.generator, meta)


def _grad_norm(net: torch.nn.Module) -> torch.Tensor:
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))

