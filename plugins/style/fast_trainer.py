"""`artengine train fast-style`: train a feed-forward style network with the style recipe's losses.

Each step stylizes a batch of photos, and the batch's own VGG features are the content
targets while the style image's Gram matrices (computed once) are the style targets: the
same :class:`StyleObjective` that `artengine style` optimizes pixels against. The loop and its
upkeep (metrics, progress, grids, checkpoints, resume) are the core :class:`Trainer`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from artengine import checkpoint as ckpt
from artengine.config import to_dict
from artengine.training.precision import autocast
from artengine.training.samples import save_grid
from artengine.training.trainer import Trainer

from . import images as im
from .configs import FastStyleConfig
from .recipe import StyleObjective
from .transformer import StyleExport, TransformerNet


class FastStyleTrainer(Trainer):
    model_kind = "image-to-image"

    def setup(self) -> None:
        cfg: FastStyleConfig = self.cfg
        self.image_size = self.settings.image_size
        self.style_ref = im.resolve_image(cfg.style)
        self.net = TransformerNet(cfg.width, cfg.residual_blocks).to(self.device)
        if self.settings.channels_last:  # the photos arrive channels-last too (make_stream)
            self.net = self.net.to(memory_format=torch.channels_last)
        if self.inference:
            return
        self.objective = StyleObjective(self.ctx.registry, cfg).to(self.device)
        style = im.load_image(self.style_ref)
        style_size = max(16, round(self.image_size * cfg.style_scale))
        style = im.resize(style, im.fit_size(*style.shape[-2:], style_size)).to(self.device)
        with autocast(self.device, self.precision):
            self.objective.set_styles([style], [1.0])
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.stream = self.make_stream()
        data = self.ctx.dataset
        count = min(cfg.sample_count, len(data))
        self.fixed = self._as_rgb(torch.stack([data[i][0] for i in range(count)]).float().div(255.0)).to(self.device)

    @staticmethod
    def _as_rgb(images: torch.Tensor) -> torch.Tensor:
        return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images

    def train_step(self) -> dict[str, float]:
        images, _ = self.stream.next()
        photos = self._as_rgb((images + 1.0) * 0.5)
        self.net.train()
        with autocast(self.device, self.precision):
            with torch.no_grad():
                feats = self.objective.extractor(photos)
                content = {n: self.objective.content_loss.target(feats[n]) for n in self.objective.content_layers}
            stylized = self.net(photos)
            total, parts = self.objective(stylized, content)
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        return {"loss": total.item(), "loss_content": parts["content"].item(), "loss_style": parts["style"].item(),
                "loss_tv": parts["tv"].item()}

    # -- checkpoints ---------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = ckpt.module_tensors("net", self.net)
        ckpt.flatten_state("opt", self.opt.state_dict(), tensors)
        return tensors

    def state_meta(self) -> dict[str, Any]:
        return {"opt": ckpt.flatten_state("opt", self.opt.state_dict(), {}), "style": self.style_ref.describe()}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        ckpt.load_module("net", self.net, tensors)
        if not self.inference:
            ckpt.load_optimizer_state(self.opt, meta["opt"], tensors)

    # -- outputs ---------------------------------------------------------------------------
    @torch.no_grad()
    def stylize(self, photos: torch.Tensor) -> torch.Tensor:
        self.net.eval()
        return self.net(photos.to(self.device).float()).clamp(0, 1)

    def save_samples(self) -> Path | None:
        """A two-row grid: the fixed photos, and below them the same photos stylized."""
        if not self.run.writer or self.inference:
            return None
        return save_grid(torch.cat([self.fixed, self.stylize(self.fixed)]),
                         self.run.samples_dir / f"{ckpt.checkpoint_name(self.step)}.png",
                         value_range=(0.0, 1.0), nrow=self.fixed.shape[0])

    def export_model(self, ema: bool = True) -> tuple[nn.Module, dict[str, Any]]:
        module = StyleExport(self.net).float().cpu()  # StyleExport copies the net: training goes on unchanged
        settings = {k: v for k, v in to_dict(self.cfg).items() if k != "style"}
        meta = {
            "kind": "image-to-image",
            "style": self.style_ref.name,
            "style_source": self.style_ref.describe(),
            "image_size": self.image_size,
            "channels": 3,
            "recipe": self.settings.recipe,
            "dataset": self.ctx.config.section("dataset").name,
            "step": self.step,
            "settings": settings,
        }
        return module, meta
