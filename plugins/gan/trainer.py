"""The adversarial trainer: discriminator phase, generator phase, EMA, sample grids, exact resume.

Each phase is a small method (``discriminator_step``, ``generator_step``, ``update_ema``) so that
other GAN trainers (e.g. progressive growing) can subclass it and replace only what differs.
Readable top to bottom, in the spirit of the pytorch/examples DCGAN loop.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from artengine import atomic
from artengine import checkpoint as ckpt
from artengine.training.ema import EMA
from artengine.training.precision import autocast, grad_scaler
from artengine.training.trainer import Trainer

from .config import GanTrainerConfig
from .losses import r1_penalty


class GeneratorExport(nn.Module):
    """What export hands to ONNX: ``z [B, latent_dim] -> image [B, C, H, W]`` in [0, 1]."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return ((self.generator(z).float() + 1.0) * 0.5).clamp(0.0, 1.0)


def run_channels(trainer: Trainer) -> int:
    """The image channels of a run: the config's, else the dataset's, else (when only rebuilding
    networks for export/eval) what the latest checkpoint recorded, so the data need not be loaded."""
    channels = int(trainer.config.get("channels") or 0)
    if channels:
        return channels
    if trainer.inference:
        name = ckpt.latest_checkpoint(trainer.run.checkpoints_dir)
        if name is not None:
            meta = json.loads((trainer.run.checkpoints_dir / f"{name}.json").read_text(encoding="utf-8"))
            channels = int(meta.get("trainer", {}).get("channels") or 0)
        if channels:
            return channels
    return int(trainer.ctx.dataset.channels)


def save_grid(images: torch.Tensor, path: Path) -> Path:
    """Write images in [-1, 1] as one PNG grid, atomically."""
    from PIL import Image
    from torchvision.utils import make_grid

    n = images.shape[0]
    nrow = max(1, int(round(n ** 0.5)))
    grid = make_grid(images.float().clamp(-1, 1), nrow=nrow, padding=2, normalize=True, value_range=(-1, 1))
    array = grid.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    if array.shape[2] == 1:
        array = array[:, :, 0]
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return atomic.write_bytes(path, buf.getvalue())


class PackedDiscriminator(nn.Module):
    """PacGAN (Lin et al. 2018): reshape ``[B, C, H, W]`` to ``[B/m, m*C, H, W]`` before D, so D scores
    groups of m samples. A collapsed generator's groups look alike, unlike real ones; D learns to tell."""

    def __init__(self, discriminator: nn.Module, pack: int):
        super().__init__()
        self.discriminator = discriminator
        self.pack = pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        return self.discriminator(x.reshape(b // self.pack, self.pack * c, h, w))


class GanTrainer(Trainer):
    """Two-phase GAN training with TTUR, n_critic, label smoothing, the balance rule, R1 and EMA."""

    Config = GanTrainerConfig

    # -- building --------------------------------------------------------------
    def setup(self) -> None:
        cfg = self.cfg
        self.image_size = int(self.config["image_size"])
        self.channels = run_channels(self)
        self.G = self.ctx.build("generator", image_size=self.image_size, channels=self.channels).to(self.device)
        self.check_pack()
        self.D = self.ctx.build("discriminator", image_size=self.image_size,
                                channels=self.channels * cfg.pack).to(self.device)
        if self.config.get("channels_last"):
            self.G = self.G.to(memory_format=torch.channels_last)
            self.D = self.D.to(memory_format=torch.channels_last)
        self.loss = self.ctx.build("loss")
        self.latent_dim = int(self.G.latent_dim)
        self.ema = EMA(self.G, cfg.ema_beta) if cfg.ema_beta > 0 else None
        self.d_skips = 0
        fixed = torch.Generator().manual_seed(int(self.config["seed"]) * 7919 + 12345)
        self.fixed_z = torch.randn(cfg.grid_size, self.latent_dim, generator=fixed).to(self.device)
        self.latent_rng = self.generator_rng("latent", offset=1)
        packed = PackedDiscriminator(self.D, cfg.pack) if cfg.pack > 1 else self.D
        self.G_train, self.D_train = self.wrap_distributed(self.G), self.wrap_distributed(packed)
        self.opt_g = self.make_optimizer(self.G, cfg.lr_g, (cfg.beta1_g, cfg.beta2_g))
        self.opt_d = self.make_optimizer(self.D, cfg.lr_d, (cfg.beta1_d, cfg.beta2_d))
        self.scaler_g = grad_scaler(self.device, self.precision)
        self.scaler_d = grad_scaler(self.device, self.precision)
        if not self.inference:
            self.stream = self.make_stream()

    def check_pack(self) -> None:
        """PacGAN groups whole batches: say so up front rather than fail inside a reshape."""
        pack, batch = self.cfg.pack, int(self.config.get("batch_size") or 0)
        if pack > 1 and batch % pack:
            from artengine.errors import ConfigError

            raise ConfigError(f"trainer.pack={pack} must divide batch_size={batch}: "
                              f"choose a batch size that is a multiple of {pack}")

    def make_optimizer(self, net: nn.Module, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
        fused = self.device.type == "cuda"
        return torch.optim.Adam(net.parameters(), lr=lr, betas=betas, fused=fused)

    def wrap_distributed(self, net: nn.Module) -> nn.Module:
        """Under torchrun (an initialized process group, world size > 1) train through DDP."""
        if self.ctx.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            return DistributedDataParallel(net, device_ids=ids, broadcast_buffers=False)
        return net

    @property
    def sampling_generator(self) -> nn.Module:
        """The EMA generator when EMA is on, else the trained one."""
        return self.ema.shadow if self.ema is not None else self.G

    # -- one step ----------------------------------------------------------------
    def sample_z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device, generator=self.latent_rng)

    def autocast(self):
        return autocast(self.device, self.precision)

    def lr_scale(self) -> float:
        """The learning-rate multiplier now: 1, or a linear fall to 0 after ``lr_decay_start``
        of the budget (needs a budget: steps, epochs or minutes)."""
        cfg = self.cfg
        done = self.progress() if cfg.lr_decay == "linear" else None
        if done is None or done <= cfg.lr_decay_start:
            return 1.0
        return max(0.0, 1.0 - (done - cfg.lr_decay_start) / max(1e-9, 1.0 - cfg.lr_decay_start))

    def apply_lr_scale(self) -> float:
        scale = self.lr_scale()
        for opt, base in ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = base * scale
        return scale

    def train_step(self) -> dict[str, float]:
        log_norms = (self.step + 1) % int(self.config.get("log_every", 10)) == 0
        scale = self.apply_lr_scale()
        stats: dict[str, torch.Tensor] = {}
        for _ in range(self.cfg.n_critic):
            real, _ = self.stream.next()
            stats.update(self.discriminator_step(real, log_norms))
        stats.update(self.generator_step(real.shape[0], log_norms))
        self.update_ema()
        keys = list(stats)
        values = torch.stack([stats[k].detach().float().reshape(()) for k in keys]).tolist()  # one sync
        metrics = dict(zip(keys, values, strict=True))
        skipped = metrics.pop("d_skipped", 0.0)
        metrics["d_skips"] = float(self.d_skips)
        metrics["d_skipped"] = skipped
        if self.cfg.lr_decay != "none":
            metrics["lr_scale"] = scale
        return metrics

    def discriminator_step(self, real: torch.Tensor, log_norms: bool = False) -> dict[str, torch.Tensor]:
        """D on real (target 1, or 1 - smoothing) and generated (target 0); skipped while D is too strong."""
        cfg = self.cfg
        z = self.sample_z(real.shape[0])
        with self.autocast():
            with torch.no_grad():
                fake = self.G_train(z)
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
            if cfg.r1_gamma > 0:
                penalty = penalty + 0.5 * cfg.r1_gamma * r1_penalty(self.D_train, real)
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

    def balance_skip(self, d_loss: torch.Tensor) -> bool:
        """The adaptive balance rule: when D's loss is already below the threshold, updating it would
        only starve G of gradient, so skip this D update (counted in ``d_skips``)."""
        threshold = self.cfg.balance_threshold
        if threshold <= 0 or not getattr(self.loss, "supports_balance", True):
            return False
        return float(d_loss.detach()) < threshold

    def generator_step(self, batch_size: int, log_norms: bool = False) -> dict[str, torch.Tensor]:
        """G through the frozen D, target 1 (non-saturating)."""
        frozen = not isinstance(self.D_train, torch.nn.parallel.DistributedDataParallel)
        if frozen:
            self.D.requires_grad_(False)
        z = self.sample_z(batch_size)
        with self.autocast():
            fake = self.G_train(z)
            loss = self.loss.g_loss(self.D_train(fake).float())
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss).backward()
        stats = {"loss_g": loss}
        if log_norms:
            self.scaler_g.unscale_(self.opt_g)
            stats["grad_norm_g"] = _grad_norm(self.G)
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        if frozen:
            self.D.requires_grad_(True)
        return stats

    def ema_decay(self) -> float:
        beta = self.cfg.ema_beta
        if self.cfg.ema_warmup:
            beta = min(beta, (1.0 + self.step) / (10.0 + self.step))
        return beta

    def update_ema(self) -> None:
        if self.ema is not None:
            self.ema.update(self.G, beta=self.ema_decay())

    # -- state ---------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {**ckpt.module_tensors("G", self.G), **ckpt.module_tensors("D", self.D)}
        if self.ema is not None:
            tensors.update(ckpt.module_tensors("G_ema", self.ema.shadow))
        ckpt.flatten_state("opt_g", self.opt_g.state_dict(), tensors)
        ckpt.flatten_state("opt_d", self.opt_d.state_dict(), tensors)
        return tensors

    def state_meta(self) -> dict[str, Any]:
        return {
            # the JSON skeletons of the optimizer states; their tensors went into state_tensors()
            "opt_g": ckpt.flatten_state("opt_g", self.opt_g.state_dict(), {}),
            "opt_d": ckpt.flatten_state("opt_d", self.opt_d.state_dict(), {}),
            "d_skips": self.d_skips,
            "channels": self.channels,
            "latent_dim": self.latent_dim,
            "scaler_g": self.scaler_g.state_dict() if self.scaler_g.is_enabled() else None,
            "scaler_d": self.scaler_d.state_dict() if self.scaler_d.is_enabled() else None,
        }

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        ckpt.load_module("G", self.G, tensors)
        ckpt.load_module("D", self.D, tensors)
        if self.ema is not None:
            ckpt.load_module("G_ema", self.ema.shadow, tensors)
        self.d_skips = int(meta.get("d_skips", 0))
        if self.inference:
            return
        self.opt_g.load_state_dict(ckpt.unflatten_state(meta["opt_g"], tensors))
        self.opt_d.load_state_dict(ckpt.unflatten_state(meta["opt_d"], tensors))
        if meta.get("scaler_g") and self.scaler_g.is_enabled():
            self.scaler_g.load_state_dict(meta["scaler_g"])
            self.scaler_d.load_state_dict(meta["scaler_d"])

    # -- outputs ---------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """Images in [-1, 1] from the sampling (EMA) generator, in eval mode."""
        g = self.sampling_generator
        was_training = g.training
        g.eval()
        try:
            return torch.cat([g(z[i:i + batch].to(self.device)).float() for i in range(0, z.shape[0], batch)])
        finally:
            g.train(was_training)

    def save_samples(self) -> Path | None:
        if not self.run.writer:
            return None
        images = self.generate(self.fixed_z)
        return save_grid(images, self.run.samples_dir / f"{ckpt.checkpoint_name(self.step)}.png")

    def export_model(self, ema: bool = True) -> tuple[nn.Module, dict[str, Any]]:
        """The EMA generator (``ema=False``: the raw trained one) mapping z to images in [0, 1]."""
        import copy

        source = self.sampling_generator if ema else self.G
        module = GeneratorExport(copy.deepcopy(source).float().eval()).cpu()
        meta = {
            "kind": "generator",
            "latent_dim": self.latent_dim,
            "image_size": self.image_size,
            "channels": self.channels,
            "recipe": self.config.get("recipe"),
            "dataset": self.config.get("dataset", {}).get("name"),
            "step": self.step,
        }
        return module, meta


def _grad_norm(net: nn.Module) -> torch.Tensor:
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
