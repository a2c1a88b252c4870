"""Built-in GAN plugin: the adversarial trainer ``gan`` and the GAN losses (bce, hinge, lsgan, wgan-gp).

Registered through the public hooks with lazy factories, so importing this module never imports torch.
Other GAN plugins (DCGAN, progressive growing) reuse the trainer and losses by name.
"""

from __future__ import annotations

from artengine.hookspecs import hookimpl

from . import config as c

_LOSSES = "artengine.plugins.gan.losses"


@hookimpl
def register_trainers(register):
    register("gan", "artengine.plugins.gan.trainer:GanTrainer", config=c.GanTrainerConfig,
             description="Two-phase adversarial training: TTUR, n_critic, label smoothing, adaptive balance "
                         "rule, R1, EMA generator, mixed precision, exact resume.")


@hookimpl
def register_losses(register):
    register("bce", f"{_LOSSES}:BceLoss", config=c.BceLossConfig,
             description="Non-saturating binary cross-entropy GAN loss (DCGAN default).")
    register("hinge", f"{_LOSSES}:HingeLoss", config=c.HingeLossConfig,
             description="Hinge GAN loss (SAGAN, BigGAN).")
    register("lsgan", f"{_LOSSES}:LsganLoss", config=c.LsganLossConfig,
             description="Least-squares GAN loss.")
    register("wgan-gp", f"{_LOSSES}:WganGpLoss", config=c.WganGpLossConfig,
             description="Wasserstein loss with gradient penalty (and optional drift term); use a "
                         "discriminator without batch norm.")


@hookimpl
def register_commands(cli):
    from .cli import augment_group

    cli.add_command(augment_group)
