"""Typed configs of the adversarial trainer and the GAN losses (torch-free, so listing them stays fast)."""

from __future__ import annotations

from dataclasses import dataclass

from artengine.config import option


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
    label_smoothing: float = option(0.0, min=0.0, max=0.5,
                                    help="one-sided label smoothing: real target 1 - this (BCE and LSGAN)")
    balance_threshold: float = option(
        0.0, min=0.0,
        help="adaptive balance: skip the discriminator update while its loss is below this (0: off; "
             "in the loss's own units, ignored by wgan-gp)")
    r1_gamma: float = option(0.0, min=0.0, help="R1 penalty weight on real images (0: off)")
    pack: int = option(1, min=1, max=16,
                       help="PacGAN packing: D judges this many images at once, stacked on channels, so a "
                            "generator that repeats itself is easy to spot (1: off; divides batch_size)")
    ema_beta: float = option(0.999, min=0.0, max=1.0, help="EMA of generator weights for samples/export (0: off)")
    ema_warmup: bool = option(True, help="ramp the EMA decay in over the first steps (min(beta, (1+t)/(10+t)))")
    grid_size: int = option(64, min=1, max=1024, help="images in the fixed-latent sample grid")


@dataclass
class BceLossConfig:
    """Non-saturating BCE: D learns real=1/fake=0, G maximizes log D(G(z))."""

    label_smoothing: float = option(0.0, min=0.0, max=0.5,
                                    help="one-sided smoothing built into the loss (the trainer's option adds to it)")


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
    drift: float = option(0.0, min=0.0, help="epsilon drift penalty on D(real)^2 (ProGAN uses 0.001)")
