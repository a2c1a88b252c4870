"""The ProGAN trainer: grows G and D from 4x4 to the target size, or trains MSG-GAN.

The state that says where training is, is two integers: the stage index and the
images shown in that stage. Alpha, the active resolution and the batch size all
follow from them through :class:`Schedule`, so a checkpoint taken mid-fade
resumes on exactly the same alpha, batch and data position.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import torch

from artengine import atomic
from artengine import checkpoint as ckpt
from artengine.errors import ConfigError
from artengine.training.ema import EMA
from artengine.training.precision import autocast, grad_scaler
from artengine.training.trainer import Trainer

from . import pyramid
from .config import ProGanTrainerConfig
from .export import StageGenerator
from .layers import resize_to, upsample2x
from .networks import fade
from .schedule import Schedule


class ProGanTrainer(Trainer):
    Config = ProGanTrainerConfig

    # -- setup -----------------------------------------------------------------
    def setup(self) -> None:
        cfg, size = self.cfg, int(self.config["image_size"])
        try:
            self.schedule = Schedule.make(
                start=cfg.start_resolution, target=size, fade_images=cfg.fade_images,
                stabilize_images=cfg.stabilize_images, first_stage_images=cfg.first_stage_images,
                batch_sizes=cfg.batch_sizes, default_batch=int(self.config["batch_size"]), msg=cfg.msg)
        except ValueError as exc:
            raise ConfigError(f"progan: {exc}", hint="use --image-size 32 (or 16, 64, 128, 256)") from None
        self.channels = self._channels()
        kw = {"image_size": size, "channels": self.channels, "msg": cfg.msg}
        self.G = self.ctx.build("generator", **kw).to(self.device)
        self.D = self.ctx.build("discriminator", **kw).to(self.device)
        self.ema = EMA(self.G, beta=0.999) if cfg.ema_images else None
        self.stage = 0
        self.stage_images = 0
        g = torch.Generator().manual_seed(int(self.config["seed"]) * 31 + 7)
        self.fixed_z = torch.randn(cfg.sample_grid, self.G.latent_dim, generator=g).to(self.device)
        if self.inference:
            return
        self.loss = self.ctx.build("loss")
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, betas=betas, eps=1e-8)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=betas, eps=1e-8)
        self.scaler_g = grad_scaler(self.device, self.precision)
        self.scaler_d = grad_scaler(self.device, self.precision)
        self.z_rng = self.generator_rng("latent", 1)
        # built with the largest batch so the stream's layout never depends on the stage
        self.stream = self.make_stream(max(self.schedule.batch_sizes))
        self.stream.batch_size = self.schedule.batch_sizes[0]

    def _channels(self) -> int:
        """The dataset's channels; a rebuilt run (export, sample) reads them from its checkpoint."""
        if not self.inference:
            return int(self.ctx.dataset.channels)
        folder = self.run.checkpoints_dir
        name = ckpt.latest_checkpoint(folder)
        if name is not None:
            meta = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            return int(meta["trainer"]["channels"])
        return int(self.config.get("channels") or 3)

    # -- where we are ------------------------------------------------------------
    @property
    def resolution(self) -> int:
        return self.schedule.resolutions[self.stage]

    @property
    def alpha(self) -> float:
        return self.schedule.alpha(self.stage, self.stage_images)

    def _set_stage(self, stage: int) -> None:
        self.stage = stage
        if self.stream is not None:
            self.stream.batch_size = self.schedule.batch_sizes[stage]

    # -- what D sees ---------------------------------------------------------------
    def _real(self, images: torch.Tensor, alpha: float) -> torch.Tensor:
        """Reals at the active resolution; during a fade they are blended with their
        lower-resolution version exactly as G's output is (official ProGAN)."""
        if self.cfg.msg:
            sizes = [4 * 2**k for k in range(self.G.levels)]
            return pyramid.pack([resize_to(images, s) for s in sizes])
        x = resize_to(images, self.resolution)
        if alpha < 1.0 and self.stage > 0:
            x = fade(upsample2x(resize_to(x, self.resolution // 2)), x, alpha)
        return x

    def _fake(self, z: torch.Tensor, alpha: float, G: torch.nn.Module | None = None) -> torch.Tensor:
        G = G or self.G
        if self.cfg.msg:
            return pyramid.pack(G.forward_all(z))
        return G(z, self.resolution, alpha)

    def _critic(self, alpha: float):
        """D as a function of one tensor (the loss's gradient penalty calls it)."""
        if self.cfg.msg:
            return lambda x: self.D.forward_all(pyramid.unpack(x, self.channels))
        return lambda x: self.D(x, alpha)

    def _latents(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.G.latent_dim, generator=self.z_rng, device=self.device)

    # -- one step ------------------------------------------------------------------
    def train_step(self) -> dict[str, float]:
        cfg = self.cfg
        alpha, res = self.alpha, self.resolution
        critic = self._critic(alpha)
        shown = 0
        for _ in range(cfg.n_critic):
            images, _ = self.stream.next()
            real = self._real(images, alpha)
            z = self._latents(real.shape[0])
            with autocast(self.device, self.precision):
                with torch.no_grad():
                    fake = self._fake(z, alpha)
                d_real = critic(real)
                d_fake = critic(fake)
                loss_d = self.loss.d_loss(d_real, d_fake)
                penalty = self.loss.penalty(critic, real, fake)
                drift = cfg.drift * d_real.float().pow(2).mean()
                total_d = loss_d.float() + penalty.float() + drift
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler_d.scale(total_d).backward()
            self.scaler_d.step(self.opt_d)
            self.scaler_d.update()
            shown += real.shape[0] * self.ctx.world_size

        z = self._latents(self.stream.batch_size)
        self.D.requires_grad_(False)
        with autocast(self.device, self.precision):
            loss_g = self.loss.g_loss(critic(self._fake(z, alpha))).float()
        self.D.requires_grad_(True)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss_g).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        if self.ema is not None:
            self.ema.update(self.G, beta=self._ema_beta())

        self.stage_images += shown
        if self.schedule.stage_done(self.stage, self.stage_images):
            self._write_grid(f"stage-{res:03d}x{res:03d}-end.png")
            self._set_stage(self.stage + 1)
            self.stage_images = 0
        return {
            "loss_d": float(loss_d.detach()),
            "loss_g": float(loss_g.detach()),
            "stage": res,
            "alpha": float(alpha),
            "penalty": float(penalty.detach()),
            "d_real": float(d_real.detach().float().mean()),
            "d_fake": float(d_fake.detach().float().mean()),
        }

    def _ema_beta(self) -> float:
        """Per-step decay for a half-life of ``ema_images`` images (ramped up over the first images)."""
        cfg = self.cfg
        batch = self.stream.batch_size * self.ctx.world_size
        half_life = float(cfg.ema_images)
        if cfg.ema_rampup > 0:
            half_life = min(half_life, self.stream.images_seen * cfg.ema_rampup)
        return 0.5 ** (batch / max(half_life, 1e-8))

    # -- checkpoints -----------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {**ckpt.module_tensors("G", self.G), **ckpt.module_tensors("D", self.D)}
        if self.ema is not None:
            tensors.update(ckpt.module_tensors("G_ema", self.ema.shadow))
        self._opt_skeletons = {
            "opt_g": ckpt.flatten_state("opt_g", self.opt_g.state_dict(), tensors),
            "opt_d": ckpt.flatten_state("opt_d", self.opt_d.state_dict(), tensors),
        }
        return tensors

    def state_meta(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "stage_images": self.stage_images,
            "resolution": self.resolution,
            "alpha": self.alpha,
            "channels": self.channels,
            "msg": self.cfg.msg,
            **getattr(self, "_opt_skeletons", {}),
        }

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        ckpt.load_module("G", self.G, tensors)
        ckpt.load_module("D", self.D, tensors)
        if self.ema is not None:
            ckpt.load_module("G_ema", self.ema.shadow, tensors)
        self.stage_images = int(meta["stage_images"])
        self._set_stage(min(int(meta["stage"]), self.schedule.last))
        if not self.inference:
            self.opt_g.load_state_dict(ckpt.unflatten_state(meta["opt_g"], tensors))
            self.opt_d.load_state_dict(ckpt.unflatten_state(meta["opt_d"], tensors))

    # -- samples and export ----------------------------------------------------------
    def sampler(self) -> torch.nn.Module:
        return self.ema.shadow if self.ema is not None else self.G

    @torch.no_grad()
    def _write_grid(self, name: str) -> Path | None:
        """A grid of the fixed latents at the current stage, scaled (nearest) to the target
        size so grids of every stage line up in the gallery."""
        if not self.run.writer:
            return None
        from PIL import Image
        from torchvision.utils import make_grid

        img = StageGenerator(self.sampler(), self.resolution, self.alpha)(self.fixed_z)
        size = int(self.config["image_size"])
        if img.shape[-1] != size:
            img = torch.nn.functional.interpolate(img, size=(size, size), mode="nearest")
        nrow = max(1, int(math.sqrt(img.shape[0])))
        grid = make_grid(img.cpu(), nrow=nrow, padding=2, pad_value=1.0)
        arr = grid.mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        if arr.shape[2] == 1:
            arr = arr[:, :, 0]
        path = self.run.samples_dir / name
        atomic.write_with(path, lambda fh: Image.fromarray(arr).save(fh, format="PNG"))
        return path

    def save_samples(self) -> Path | None:
        path = self._write_grid(f"step-{self.step:09d}.png")
        if self.stop_reason is not None and self.stage == self.schedule.last and self.alpha >= 1.0:
            res = self.resolution
            self._write_grid(f"stage-{res:03d}x{res:03d}-end.png")
        return path

    def export_model(self) -> tuple[torch.nn.Module, dict[str, Any]]:
        module = StageGenerator(copy.deepcopy(self.sampler()).cpu().float().eval(), self.resolution, self.alpha)
        meta = {
            "kind": "generator",
            "latent_dim": int(self.G.latent_dim),
            "image_size": int(self.resolution),
            "channels": int(self.channels),
            "recipe": self.config.get("recipe", "progan"),
            "dataset": self.config.get("dataset", {}).get("name", self.config.get("data")),
            "step": int(self.step),
            "stage": int(self.resolution),
            "alpha": float(self.alpha),
        }
        return module, meta
