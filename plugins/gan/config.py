"""Typed configs of the adversarial trainer and the GAN losses (torch-free, so listing them stays fast)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from artengine.config import option

#: DiffAugment's few-shot policy (Zhao et al. 2020), used by --augment auto
DEFAULT_AUGMENT_POLICY = "color,translation,cutout"
#: below this many training images augmentation is on by default (ADA's small-data regime). ADA's paper
#: puts the regime under 30,000 images, but on stacked-mnist (25,600) DCGAN trained worse with it at equal
#: CPU time (959 -> 839 modes, KID 0.22 -> 0.33; docs/small-data.md): its D, with no R1 then, kept r_t high
#: without memorizing, so p climbed to its cap (not re-measured since the recipe took R1)
AUGMENT_AUTO_BELOW = 10_000
#: ``r1_gamma = -1`` (auto) when fine-tuning: the parent's D is sure of itself from the first step, and on
#: a 100-image folder it overpowered G after about 2,000 steps and G collapsed (KID 1.02 after 3 minutes);
#: R1 keeps D's scores near the boundary and KID falling (docs/small-data.md). The dcgan recipe sets
#: r1_gamma 1 from scratch as well (long runs collapse without it: docs/training.md)
FINETUNE_R1_GAMMA = 1.0


@dataclass
class GanTrainerConfig:
    """Settings of the two-phase adversarial trainer."""

    lr_g: float = option(2e-4, min=0.0, help="generator learning rate (Adam)")
    lr_d: float = option(2e-4, min=0.0, help="discriminator learning rate (Adam); TTUR: set it apart from lr_g")
    beta1_g: float = option(0.5, min=0.0, max=1.0, help="Adam beta1 of the generator")
    beta2_g: float = option(0.999, min=0.0, max=1.0, help="Adam beta2 of the generator")
    beta1_d: float = option(0.5, min=0.0, max=1.0, help="Adam beta1 of the discriminator")
    beta2_d: float = option(0.999, min=0.0, max=1.0, help="Adam beta2 of the discriminator")
    lr_decay: str = option("none", choices=("none", "linear"),
                           help="linear: both learning rates fall linearly to 0 over the end of the budget "
                                "(steps, epochs or minutes), which calms the late swings between modes")
    lr_decay_start: float = option(0.5, min=0.0, max=1.0, help="fraction of the budget where the decay begins")
    n_critic: int = option(1, min=1, max=100, help="discriminator steps per generator step")
    reuse_fakes: bool = option(True, help="the G step scores the images the last D step judged, as "
                                          "pytorch/examples' DCGAN does: one generator forward per step instead "
                                          "of two (false: fresh latents for G)")
    label_smoothing: float = option(0.0, min=0.0, max=0.5,
                                    help="one-sided label smoothing: real target 1 - this (BCE and LSGAN)")
    balance_threshold: float = option(
        0.0, min=0.0,
        help="adaptive balance: skip the discriminator update while its loss is below this (0: off; "
             "in the loss's own units, ignored by wgan-gp)")
    r1_gamma: float = option(-1.0, min=-1.0, help="R1 penalty weight on real images (0: off; -1: auto, "
                                                  f"{FINETUNE_R1_GAMMA:g} when fine-tuning with init_from, else off)")
    r1_every: int = option(4, min=1, max=1000,
                           help="lazy R1: apply it every N steps, weighted by N (StyleGAN2 uses 16)")
    drift: float = option(0.0, min=0.0, help="epsilon drift: adds drift * mean(D(real)^2) to D's loss, keeping "
                                             "critic scores near zero with any loss (ProGAN: 0.001)")
    pack: int = option(1, min=1, max=16,
                       help="PacGAN packing: D judges this many images at once, stacked on channels, so a "
                            "generator that repeats itself is easy to spot (1: off; divides batch_size)")
    ema_beta: float = option(0.999, min=0.0, max=1.0, help="EMA of generator weights for samples/export (0: off)")
    ema_warmup: bool = option(True, help="ramp the EMA decay in over the first steps (min(beta, (1+t)/(10+t)))")
    ema_images: int = option(0, min=0, help="EMA half-life in images instead of ema_beta, the same smoothing at "
                                            "any batch size (StyleGAN2-ADA; 0: use ema_beta)")
    ema_rampup: float = option(0.0, min=0.0, max=1.0,
                               help="with ema_images: the half-life is at most this fraction of the images shown "
                                    "so far, so early samples do not lag at the random init (0: off)")
    grid_size: int = option(64, min=1, max=1024, help="images in the fixed-latent sample grid")
    augment: str = option("auto", help="differentiable augmentation of everything D sees, real and fake: auto "
                                       f"({DEFAULT_AUGMENT_POLICY} with adaptive p, on for datasets under "
                                       f"{AUGMENT_AUTO_BELOW:,} images), none, or a comma list of "
                                       "color, brightness, saturation, contrast, translation, xint, cutout, flip, "
                                       "rot90, geometric")
    augment_p: float = option(-1.0, min=-1.0, max=1.0, help="a fixed probability of each augmentation per image; "
                                                              "-1: adaptive (ADA)")
    ada_target: float = option(0.6, min=0.0, max=1.0, help="ADA: the E[sign(D(real))] that p steers towards "
                                                            "(higher: D may overfit more before p rises)")
    ada_interval: int = option(4, min=1, max=1000, help="ADA: batches between adjustments of p")
    ada_images: int = option(100_000, min=1, help="ADA: real images over which p can rise from 0 to 1 (ADA's "
                                                  "GPU runs use 500,000; CPU runs see fewer images)")
    ada_max_p: float = option(0.8, min=0.0, max=1.0, help="ADA: the cap on p (above about 0.8 augmentations "
                                                          "start to show in the generated images)")
    freeze_d: int = option(0, min=0, max=64, help="FreezeD (Mo et al. 2020): the first K discriminator blocks "
                                                  "do not train; use when fine-tuning with --init-from")
    init_from: str = option("", help="RUN_DIR[:CHECKPOINT]: start from another run's G, D and EMA weights "
                                     "(same architecture, any dataset), for fine-tuning")
    finetune_lr_scale: float = option(1.0, min=0.0, max=100.0,
                                      help="multiplies lr_g and lr_d in a run started with init_from (the dcgan "
                                           "recipe sets 2.5: with R1 on, the parent adapts to a small folder in "
                                           "fewer steps); ignored from scratch")


@dataclass
class BceLossConfig:
    """Non-saturating BCE: D learns real=1/fake=0, G maximizes log D(G(z)) (no settings; label
    smoothing is the trainer's)."""

    #: settings that moved: one-sided label smoothing is the trainer's ``label_smoothing`` alone now
    legacy: ClassVar[dict[str, tuple[str, ...]]] = {"label_smoothing": ("trainer.label_smoothing",)}


@dataclass
class HingeLossConfig:
    """Hinge loss (SAGAN/BigGAN): no settings."""


@dataclass
class LsganLossConfig:
    """Least squares GAN (Mao et al. 2017): a=0, b=c=1."""


@dataclass
class WganGpLossConfig:
    """Wasserstein loss with gradient penalty (Gulrajani et al. 2017)."""

    gp_weight: float = option(10.0, min=0.0, help="gradient penalty weight lambda")

    #: settings that moved: the epsilon drift term is the trainer's ``drift`` now (it works with any loss)
    legacy: ClassVar[dict[str, tuple[str, ...]]] = {"drift": ("trainer.drift",)}
