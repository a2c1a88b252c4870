"""ProGAN: the GAN trainer plus a growth schedule (or MSG-GAN's pyramid).

Everything of a GAN step (the two phases, losses, penalties, drift, balance rule, PacGAN, EMA,
grad scalers, state, sample grids, export) is :class:`GanTrainer`'s. What this subclass adds:
G and D run at the schedule's resolution and fade-in weight ``alpha``, real images are shown at
that resolution and faded like G's output, the batch size follows the stage, and a grid is saved
at the end of every stage. Where training is, is two integers (the stage and the images shown in
it); alpha, resolution and batch size follow from them through :class:`Schedule`, so a checkpoint
taken mid-fade resumes on exactly the same alpha, batch and data position.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from artengine.errors import ConfigError
from artengine.plugins.gan.trainer import GanTrainer
from artengine.training.stream import BatchStream

from . import pyramid
from .layers import resize_to, upsample2x
from .networks import fade
from .schedule import Schedule
from .views import GrowingDiscriminator, GrowingGenerator


class ProGanTrainer(GanTrainer):
    ddp_find_unused = True  # the blocks above the active resolution take no part in a step

    # -- building ----------------------------------------------------------------
    def setup(self) -> None:
        cfg, s = self.cfg, self.settings
        try:
            self.schedule = Schedule.make(
                start=cfg.start_resolution, target=s.image_size, fade_images=cfg.fade_images,
                stabilize_images=cfg.stabilize_images, first_stage_images=cfg.first_stage_images,
                batch_sizes=cfg.batch_sizes, default_batch=s.batch_size, msg=cfg.msg)
        except ValueError as exc:
            raise ConfigError(f"progan: {exc}", hint="use --image-size 32 (or 16, 64, 128, 256)") from None
        if cfg.msg and cfg.pack > 1:
            raise ConfigError("trainer.pack works with progressive growing, not with msg=true",
                              hint="drop --set pack or --set msg")
        self.stage = 0
        self.stage_images = 0
        super().setup()

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        kw = {"image_size": self.image_size, "msg": self.cfg.msg}
        G = self.ctx.build("generator", channels=self.channels, **kw)
        D = self.ctx.build("discriminator", channels=self.channels * self.cfg.pack, **kw)
        return G.to(self.device), D.to(self.device)

    def generator_view(self) -> nn.Module:
        self.G_stage = GrowingGenerator(self.G, self.resolution, msg=self.cfg.msg)
        return self.G_stage

    def discriminator_view(self, D: nn.Module | None = None) -> nn.Module:
        self.D_stage = GrowingDiscriminator(self.D, self.channels, msg=self.cfg.msg)
        return super().discriminator_view(self.D_stage)

    def batch_sizes(self) -> tuple[int, ...]:
        return self.schedule.batch_sizes

    def make_stream(self, batch_size: int | None = None) -> BatchStream:
        # built with the largest batch so the stream's layout never depends on the stage
        stream = super().make_stream(max(self.schedule.batch_sizes))
        stream.batch_size = self.schedule.batch_sizes[self.stage]
        return stream

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

    # -- one step: the GAN step at this stage ------------------------------------
    def train_step(self) -> dict[str, float]:
        res, alpha = self.resolution, self.alpha
        self.G_stage.resolution, self.G_stage.alpha, self.D_stage.alpha = res, alpha, alpha
        shown = self.stream.batch_size * self.ctx.world_size * self.cfg.n_critic
        metrics = super().train_step()
        self.stage_images += shown
        if self.schedule.stage_done(self.stage, self.stage_images):
            self.save_samples(f"stage-{res:03d}x{res:03d}-end.png")
            self._set_stage(self.stage + 1)
            self.stage_images = 0
        return {**metrics, "stage": res, "alpha": float(alpha)}

    def real_images(self) -> torch.Tensor:
        """Reals at the active resolution; during a fade they are blended with their
        lower-resolution version exactly as G's output is (official ProGAN)."""
        images = super().real_images()
        if self.cfg.msg:
            return pyramid.pack([resize_to(images, 4 * 2**k) for k in range(self.G.levels)])
        x = resize_to(images, self.resolution)
        alpha = self.G_stage.alpha
        if alpha < 1.0 and self.stage > 0:
            x = fade(upsample2x(resize_to(x, self.resolution // 2)), x, alpha)
        return x

    # -- state ---------------------------------------------------------------------
    def state_meta(self) -> dict[str, Any]:
        return {**super().state_meta(), "stage": self.stage, "stage_images": self.stage_images,
                "resolution": self.resolution, "alpha": self.alpha, "msg": self.cfg.msg}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        super().load_state(tensors, meta)
        self.stage_images = int(meta["stage_images"])
        self._set_stage(min(int(meta["stage"]), self.schedule.last))

    # -- samples and export ----------------------------------------------------------
    def sampler(self, ema: bool = True) -> nn.Module:
        """The (EMA) generator at the current stage and fade-in weight."""
        return GrowingGenerator(super().sampler(ema), self.resolution, self.alpha)

    def grid_images(self) -> torch.Tensor:
        """Scaled (nearest) to the target size, so grids of every stage line up in the gallery."""
        images = super().grid_images()
        if images.shape[-1] != self.image_size:
            images = torch.nn.functional.interpolate(images, size=(self.image_size,) * 2, mode="nearest")
        return images

    def save_samples(self, name: str | None = None):
        path = super().save_samples(name)
        if name is None and self.stop_reason is not None and self.stage == self.schedule.last and self.alpha >= 1:
            super().save_samples(f"stage-{self.resolution:03d}x{self.resolution:03d}-end.png")
        return path

    def export_meta(self) -> dict[str, Any]:
        """The generator at the current stage: its resolution is the exported image size."""
        return {**super().export_meta(), "image_size": self.resolution, "stage": self.resolution,
                "alpha": float(self.alpha)}

