"""The adversarial trainer: discriminator phase, generator phase, EMA, sample grids, exact resume.

One step reads top to bottom (``train_step``: D ``n_critic`` times, then G, then the EMA), in
the spirit of the pytorch/examples DCGAN loop. Its parts are small methods so that other GAN
trainers replace only what differs: the progressive-growing trainer (``plugins/progan``) sets the
resolution and fade of the networks and of the real images; a third-party one adds terms to
:meth:`GanTrainer.generator_loss` or :meth:`GanTrainer.d_regularizers`, draws fakes its own way
in :meth:`GanTrainer.fake_images`, or changes what D sees in :meth:`GanTrainer.augment`.
The loop around the step (logging, grids, checkpoints, eval) is the core ``Trainer.fit``.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from artengine import checkpoint as ckpt
from artengine.errors import ConfigError
from artengine.training.compile import compile_pair
from artengine.training.ema import EMA, ema_decay
from artengine.training.matmul_conv import matmul_convolutions_pay_off, use_matmul_convolutions
from artengine.training.precision import autocast, grad_scaler
from artengine.training.samples import save_grid
from artengine.training.trainer import Trainer

from .ada import AdaController
from .augment import Augment, choose_augmentation
from .finetune import (
    ParentState,
    freeze_blocks,
    learning_rates,
    load_parent_weights,
    parse_init_from,
    resolve_r1_gamma,
)
from .layers import PackedDiscriminator
from .losses import r1_penalty
from .tiling import is_tileable, random_roll


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
    channels = trainer.settings.channels
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


class GanTrainer(Trainer):
    """Two-phase GAN training with TTUR, n_critic, label smoothing, the balance rule, R1, drift,
    PacGAN, EMA and mixed precision."""

    model_kind = "generator"
    exports_raw = True  # the raw generator beside its EMA copy
    #: DDP must look for parameters a step did not use (true for networks that grow)
    ddp_find_unused = False

    # -- building --------------------------------------------------------------
    def setup(self) -> None:
        cfg = self.cfg
        self.image_size = self.settings.image_size
        self.channels = run_channels(self)
        self.check_pack()
        self.G, self.D = self.build_networks()
        if self.settings.channels_last:
            self.G = self.G.to(memory_format=torch.channels_last)
            self.D = self.D.to(memory_format=torch.channels_last)
        if self.settings.matmul_convs and matmul_convolutions_pay_off(self.device, self.precision):
            use_matmul_convolutions(self.G)
            use_matmul_convolutions(self.D)
        self.loss = self.ctx.build("loss")
        self.latent_dim = int(self.G.latent_dim)
        self.ema = EMA(self.G, cfg.ema_beta) if cfg.ema_beta > 0 else None
        self.d_skips = 0
        # where the balance rule is decided: on an accelerator inside a fused optimizer step (no host sync),
        # on a CPU by reading the loss (free there, and a skipped update then skips D's backward too)
        self.balance_on_device = self.device.type != "cpu"
        fixed = torch.Generator().manual_seed(self.settings.seed * 7919 + 12345)
        self.fixed_z = torch.randn(cfg.grid_size, self.latent_dim, generator=fixed).to(self.device)
        self.latent_rng = self.generator_rng("latent", offset=1)
        self.r1_gamma = resolve_r1_gamma(cfg)
        self.last_r1 = torch.zeros((), device=self.device)  # logged every step, computed every r1_every
        self.kept_fakes: torch.Tensor | None = None  # the D step's fakes for the G step (reuse_fakes)
        self.lr_g, self.lr_d = learning_rates(cfg)
        starting = not self.inference and not self.ctx.resume
        parent = self.init_from_parent() if cfg.init_from and starting else None
        self.parent_step = parent.step if parent is not None else None
        self.frozen_d = freeze_blocks(self.D, cfg.freeze_d) if cfg.freeze_d else []
        self.G_train = self.wrap_distributed(self.generator_view())
        self.D_train = self.wrap_distributed(self.discriminator_view())
        if self.settings.compile and not self.inference:
            self.compile_steps()
        self.opt_g = self.make_optimizer(self.G, self.lr_g, (cfg.beta1_g, cfg.beta2_g))
        self.opt_d = self.make_optimizer(self.D, self.lr_d, (cfg.beta1_d, cfg.beta2_d))
        self.scaler_g = grad_scaler(self.device, self.precision)
        self.scaler_d = grad_scaler(self.device, self.precision)
        self.augment_rng = self.generator_rng("augment", offset=2)
        self.augmenter: Augment | None = None
        self.ada: AdaController | None = None
        if not self.inference:
            self.stream = self.make_stream()
            start_p = parent.augment_p if parent is not None else None
            self.augmenter, self.ada, why = choose_augmentation(self.cfg, len(self.ctx.dataset), self.device,
                                                                start_p=start_p)
            if self.ctx.rank == 0 and not self.ctx.quiet:
                print(f"augment: {why}", file=sys.stderr, flush=True)

    def init_from_parent(self) -> ParentState:
        """Load another run's G, D and EMA weights (``trainer.init_from``)."""
        parent = parse_init_from(self.cfg.init_from)
        modules = {"G": self.G, "D": self.D, **({"G_ema": self.ema.shadow} if self.ema is not None else {})}
        state = load_parent_weights(parent, self.ctx.config.to_json(), modules)
        if self.ctx.rank == 0 and not self.ctx.quiet:
            why = "auto when fine-tuning" if self.cfg.r1_gamma < 0 else "trainer.r1_gamma"
            r1 = (f"; R1 gamma {self.r1_gamma:g} every {self.cfg.r1_every} steps ({why}; "
                  "--set trainer.r1_gamma=0 turns it off)" if self.r1_gamma > 0 else "")
            lr = (f"; learning rates x{self.cfg.finetune_lr_scale:g}: lr_g {self.lr_g:g}, lr_d {self.lr_d:g} "
                  "(trainer.finetune_lr_scale)" if self.cfg.finetune_lr_scale != 1 else "")
            print(f"init-from: {parent.run_dir} {parent.checkpoint} (step {state.step}){r1}{lr}", file=sys.stderr,
                  flush=True)
        return state

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """G and D from the run's generator and discriminator sections (D sees ``pack`` images at once)."""
        G = self.ctx.build("generator", image_size=self.image_size, channels=self.channels)
        D = self.ctx.build("discriminator", image_size=self.image_size, channels=self.channels * self.cfg.pack)
        return G.to(self.device), D.to(self.device)

    def generator_view(self) -> nn.Module:
        """The module the step calls as G: ``z -> fake images``."""
        return self.G

    def discriminator_view(self, D: nn.Module | None = None) -> nn.Module:
        """The module the step calls as D (``self.D`` unless given): ``images -> one score per image``,
        per group of ``pack`` images under PacGAN."""
        D = self.D if D is None else D
        return PackedDiscriminator(D, self.cfg.pack) if self.cfg.pack > 1 else D

    def batch_sizes(self) -> tuple[int, ...]:
        """Every batch size this run trains with."""
        return (self.settings.batch_size,)

    def check_pack(self) -> None:
        """PacGAN groups whole batches: say so up front rather than fail inside a reshape."""
        pack = self.cfg.pack
        for batch in self.batch_sizes():
            if pack > 1 and batch % pack:
                raise ConfigError(f"trainer.pack={pack} must divide batch_size={batch}: "
                                  f"choose a batch size that is a multiple of {pack}")

    def make_optimizer(self, net: nn.Module, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
        """Adam, fused into one kernel where this torch has one for the device (CUDA; the CPU from torch
        2.4 on: 1-4% of a stylegan step at 32 px on a 2-core CPU), else the multi-tensor one."""
        params = [p for p in net.parameters() if p.requires_grad]  # FreezeD's frozen blocks stay out
        try:
            return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
        except RuntimeError:  # no fused kernel for this device in this torch
            return torch.optim.Adam(params, lr=lr, betas=betas)

    def wrap_distributed(self, net: nn.Module) -> nn.Module:
        """Under torchrun (an initialized process group, world size > 1) train through DDP."""
        if self.ctx.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            return DistributedDataParallel(net, device_ids=ids, broadcast_buffers=False,
                                           find_unused_parameters=self.ddp_find_unused)
        return net

    def double_backward(self) -> bool:
        """True when D's regularizers differentiate D's gradient (R1, WGAN-GP's penalty)."""
        return self.r1_gamma > 0 or getattr(self.loss, "gp_weight", 0) > 0

    def compile_steps(self) -> None:
        """``--compile``: the step's G and D through torch.compile, probed once now so a compiler failure
        is one message and an eager module, not a crash at step 1 (artengine.training.compile). D stays
        eager when its penalties differentiate twice."""
        gen = torch.Generator(device=self.device).manual_seed(0)

        def one_pass(G: nn.Module, D: nn.Module) -> torch.Tensor:
            z = torch.randn(self.settings.batch_size, self.latent_dim, device=self.device, generator=gen)
            with self.autocast():
                return D(G(z)).float().mean()

        self.G_train, self.D_train = compile_pair(
            self.G_train, self.D_train, one_pass, [self.G, self.D], double_backward=self.double_backward(),
            world_size=self.ctx.world_size, rank=self.ctx.rank)

    def sampler(self, ema: bool = True) -> nn.Module:
        """``z -> images in [-1, 1]`` for grids, eval and export: the EMA generator when EMA is on."""
        return self.ema.shadow if (ema and self.ema is not None) else self.G

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
        for opt, base in ((self.opt_g, self.lr_g), (self.opt_d, self.lr_d)):
            for group in opt.param_groups:
                group["lr"] = base * scale
        return scale

    def train_step(self) -> dict[str, float]:
        log_norms = (self.step + 1) % self.settings.log_every == 0
        scale = self.apply_lr_scale()
        stats: dict[str, torch.Tensor] = {}
        skipped: torch.Tensor | None = None
        for i in range(self.cfg.n_critic):
            real = self.real_images()
            keep = self.cfg.reuse_fakes and i == self.cfg.n_critic - 1  # only the last D step's fakes reach G
            stats.update(self.discriminator_step(real, log_norms, keep_fakes=keep))
            skipped = stats["d_skipped"] if skipped is None else skipped + stats["d_skipped"]
        stats["d_skipped"] = skipped
        stats.update(self.generator_step(real.shape[0], log_norms))
        self.update_ema()
        keys = list(stats)
        values = torch.stack([stats[k].detach().float().reshape(()) for k in keys]).tolist()  # one sync
        metrics = dict(zip(keys, values, strict=True))
        skipped = metrics.pop("d_skipped", 0.0)
        self.d_skips += round(skipped)  # counted here, from the one read, not by a sync in the D step
        metrics["d_skips"] = float(self.d_skips)
        metrics["d_skipped"] = skipped
        if self.cfg.lr_decay != "none":
            metrics["lr_scale"] = scale
        if self.augmenter is not None:
            metrics["aug_p"] = self.augmenter.p
            if self.ada is not None:
                metrics["ada_rt"] = self.ada.rt
        return metrics

    def real_images(self) -> torch.Tensor:
        """The next batch of training images, as D should see them at this point of training
        (rolled around at random for a tileable generator, whose images wrap around)."""
        images, _ = self.stream.next()
        if is_tileable(self.G):
            images = random_roll(images, self.latent_rng)
        return images

    def fake_images(self, z: torch.Tensor) -> torch.Tensor:
        """G's images for latents ``z`` (both phases draw fakes here)."""
        return self.G_train(z)

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """What D sees of any image, real or fake, in every call (losses and penalties alike):
        the differentiable augmentation of ``trainer.augment`` at the current p (identity at p = 0)."""
        if self.augmenter is None:
            return images
        return self.augmenter(images, self.augment_rng)

    def observe_real_scores(self, d_real: torch.Tensor, d_fake: torch.Tensor, images: int) -> None:
        """Feed D's scores of (augmented) real images, measured from the loss's undecided score
        (``ada_boundary``: 0 for logits), to ADA's controller and apply its new p."""
        if self.ada is None:
            return
        boundary = getattr(self.loss, "ada_boundary", None)  # a third-party loss without one: logits
        self.ada.accumulate(d_real - boundary(d_fake) if boundary is not None else d_real, images)
        if self.ada.maybe_update():
            self.augmenter.p = self.ada.p

    def discriminate(self, images: torch.Tensor) -> torch.Tensor:
        """D's scores (float32) for ``images``: the one way every phase and penalty calls D."""
        return self.D_train(self.augment(images)).float()

    def discriminator_step(self, real: torch.Tensor, log_norms: bool = False, *,
                           keep_fakes: bool = False) -> dict[str, torch.Tensor]:
        """D on real (target 1, or 1 - smoothing) and generated (target 0); skipped while D is too strong.
        ``keep_fakes``: the fakes keep G's graph for the G step that follows (``reuse_fakes``)."""
        z = self.sample_z(real.shape[0])
        with self.autocast():
            with torch.set_grad_enabled(keep_fakes):
                fake = self.fake_images(z)
            self.kept_fakes = fake if keep_fakes else None
            fake = fake.detach()
            d_real = self.discriminate(real)
            d_fake = self.discriminate(fake)
            loss = self.loss.d_loss(d_real, d_fake, real_target=1.0 - self.cfg.label_smoothing)
        self.observe_real_scores(d_real, d_fake, real.shape[0])
        stats = {"loss_d": loss, "d_real": d_real.mean(), "d_fake": d_fake.mean()}
        skip = self.balance_skip(loss)
        if skip is True:
            stats["d_skipped"] = loss.new_ones(())
            return stats
        with self.autocast():
            penalty = self.d_regularizers(real, fake, d_real)
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(loss + penalty).backward()
        if log_norms:
            self.scaler_d.unscale_(self.opt_d)
            stats["grad_norm_d"] = _grad_norm(self.D)
        if isinstance(skip, torch.Tensor):
            self.opt_d.found_inf = skip  # fused Adam leaves weights and state as they were where this is 1
        try:
            self.scaler_d.step(self.opt_d)
        finally:
            if isinstance(skip, torch.Tensor):
                del self.opt_d.found_inf
        self.scaler_d.update()
        stats["penalty"] = penalty.detach().float()
        if self.r1_gamma > 0:
            stats["r1"] = self.last_r1
        stats["d_skipped"] = skip if isinstance(skip, torch.Tensor) else loss.new_zeros(())
        return stats

    def d_regularizers(self, real: torch.Tensor, fake: torch.Tensor, d_real: torch.Tensor) -> torch.Tensor:
        """What D's loss gets besides the adversarial term: the loss's own penalty (WGAN-GP's), the
        epsilon drift and R1, lazily every ``r1_every`` steps with its weight scaled to match."""
        cfg = self.cfg
        penalty = self.loss.penalty(self.discriminate, real, fake)
        if cfg.drift > 0:
            penalty = penalty + cfg.drift * d_real.pow(2).mean()
        if self.r1_gamma > 0 and self.step % cfg.r1_every == 0:
            r1 = r1_penalty(self.discriminate, real)
            self.last_r1 = r1.detach().float()  # the log shows the latest even when no logged step computes one
            penalty = penalty + 0.5 * self.r1_gamma * cfg.r1_every * r1
        return penalty

    def balance_skip(self, d_loss: torch.Tensor) -> bool | torch.Tensor:
        """The adaptive balance rule: when D's loss is already below the threshold, updating it would
        only starve G of gradient, so skip this D update (counted in ``d_skips``).

        With ``balance_on_device`` (an accelerator), a fused optimizer and no fp16 scaler the answer stays
        on the device, a 0/1 tensor the optimizer step obeys, so the rule adds no host sync; elsewhere it is
        read here."""
        threshold = self.cfg.balance_threshold
        if threshold <= 0 or not getattr(self.loss, "supports_balance", True):
            return False
        below = d_loss.detach().float() < threshold
        if self.balance_on_device and self.opt_d.defaults.get("fused") and not self.scaler_d.is_enabled():
            return below.float().reshape(())
        return bool(below)

    def generator_step(self, batch_size: int, log_norms: bool = False) -> dict[str, torch.Tensor]:
        """G through the frozen D."""
        frozen = not isinstance(self.D_train, torch.nn.parallel.DistributedDataParallel)
        if frozen:
            self.D.requires_grad_(False)
        with self.autocast():
            loss, stats = self.generator_loss(batch_size)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss).backward()
        if log_norms:
            self.scaler_g.unscale_(self.opt_g)
            stats["grad_norm_g"] = _grad_norm(self.G)
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        if frozen:
            self.D.requires_grad_(True)
            for p in self.frozen_d:  # FreezeD's blocks stay frozen
                p.requires_grad_(False)
        return stats

    def generator_loss(self, batch_size: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """G's objective for one step and the stats to log: the loss's generator term on the fakes the
        D step kept (``reuse_fakes``) or on fresh ones. Add generator regularizers (e.g. path length) by
        extending this."""
        loss = self.loss.g_loss(self.discriminate(self.generator_fakes(batch_size)))
        return loss, {"loss_g": loss}

    def generator_fakes(self, batch_size: int) -> torch.Tensor:
        """The G step's images: the last D step's, still attached to G's graph, when it kept them for a
        batch of this size; otherwise fresh ones. Either way they are handed out once."""
        kept, self.kept_fakes = self.kept_fakes, None
        if kept is not None and kept.shape[0] == batch_size:
            return kept
        return self.fake_images(self.sample_z(batch_size))

    def ema_decay(self) -> float:
        """This step's EMA decay (artengine.training.ema.ema_decay): from a half-life in images
        (``ema_images``, with its ramp-up), or ``ema_beta`` (with its warm-up)."""
        cfg = self.cfg
        return ema_decay(beta=cfg.ema_beta, warmup=cfg.ema_warmup, step=self.step, half_life_images=cfg.ema_images,
                         rampup=cfg.ema_rampup, images_seen=self.images_seen,
                         batch=self.stream.batch_size * self.ctx.world_size)

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
            "augment": ({"policy": self.augmenter.policy, "p": self.augmenter.p}
                        if self.augmenter is not None else None),
            "ada": self.ada.state() if self.ada is not None else None,
            "init_from": ({"run": self.cfg.init_from, "step": self.parent_step}
                          if self.parent_step is not None else None),
        }

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        ckpt.load_module("G", self.G, tensors)
        ckpt.load_module("D", self.D, tensors)
        if self.ema is not None:
            ckpt.load_module("G_ema", self.ema.shadow, tensors)
        self.d_skips = int(meta.get("d_skips", 0))
        self.parent_step = (meta.get("init_from") or {}).get("step", self.parent_step)
        if self.inference:
            return
        ckpt.load_optimizer_state(self.opt_g, meta["opt_g"], tensors)
        ckpt.load_optimizer_state(self.opt_d, meta["opt_d"], tensors)
        if meta.get("scaler_g") and self.scaler_g.is_enabled():
            self.scaler_g.load_state_dict(meta["scaler_g"])
            self.scaler_d.load_state_dict(meta["scaler_d"])
        if self.ada is not None and meta.get("ada"):
            self.ada.load_state(meta["ada"])
        if self.augmenter is not None and meta.get("augment"):
            self.augmenter.p = float(meta["augment"]["p"])

    # -- outputs ---------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """Images in [-1, 1] from the sampling (EMA) generator, in eval mode."""
        g = self.sampler()
        was_training = g.training
        g.eval()
        try:
            return torch.cat([g(z[i:i + batch].to(self.device)).float() for i in range(0, z.shape[0], batch)])
        finally:
            g.train(was_training)

    def grid_images(self) -> torch.Tensor:
        """The images of a sample grid: the fixed latents through the sampling generator."""
        return self.generate(self.fixed_z)

    def save_samples(self, name: str | None = None) -> Path | None:
        if not self.run.writer:
            return None
        name = name or f"{ckpt.checkpoint_name(self.step)}.png"
        return save_grid(self.grid_images(), self.run.samples_dir / name)

    def export_meta(self) -> dict[str, Any]:
        """The contract metadata of the exported generator."""
        return {
            "kind": "generator",
            "latent_dim": self.latent_dim,
            "image_size": self.image_size,
            "channels": self.channels,
            "recipe": self.settings.recipe,
            "dataset": self.ctx.config.section("dataset").name,
            "step": self.step,
            # an RGBA generator says so: channel 4 is straight (not premultiplied) alpha
            **({"color_mode": "RGBA"} if self.channels == 4 else {}),
            **({"tileable": True} if is_tileable(self.G) else {}),  # the gallery shows it tiled
        }

    def export_model(self, ema: bool = True) -> tuple[nn.Module, dict[str, Any]]:
        """The EMA generator (``ema=False``: the raw trained one) mapping z to images in [0, 1]."""
        module = GeneratorExport(copy.deepcopy(self.sampler(ema)).float().eval()).cpu()
        return module, self.export_meta()


def _grad_norm(net: nn.Module) -> torch.Tensor:
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
