"""ProGAN: progressive growing of GANs (Karras et al. 2018), with MSG-GAN as an option.

Registered through the public hooks only; factories are lazy strings so that
listing plugins never imports torch.
"""

from __future__ import annotations

from artengine.hookspecs import hookimpl
from artengine.recipe import Recipe

_NET = "artengine.plugins.progan.networks"


@hookimpl
def register_generators(register):
    from .config import ProGeneratorConfig

    register("progan", f"{_NET}:build_generator", config=ProGeneratorConfig,
             description="Progressively grown generator: equalized LR, pixel norm, fade-in from 4x4 "
                         "(MSG-GAN outputs every resolution).")


@hookimpl
def register_discriminators(register):
    from .config import ProDiscriminatorConfig

    register("progan", f"{_NET}:build_discriminator", config=ProDiscriminatorConfig,
             description="Progressively grown discriminator: equalized LR, minibatch stddev, fade-in "
                         "(MSG-GAN takes every resolution).")


@hookimpl
def register_trainers(register):
    from .config import ProGanTrainerConfig

    register("progan", "artengine.plugins.progan.trainer:ProGanTrainer", config=ProGanTrainerConfig,
             description="The GAN trainer plus a growth schedule: 4x4 -> image_size with fade-in and "
                         "stabilization phases, exact resume mid-fade; msg=true trains all scales at once (MSG-GAN).")


#: The recipe's defaults: the ProGAN paper's WGAN-GP with epsilon drift, Adam (lr 0.001, betas 0 / 0.99)
#: and an EMA half-life in images (StyleGAN2-ADA's rule, so short CPU runs' samples do not lag). The
#: non-saturating loss with lazy R1 is 1.6x cheaper per step here but collapsed on stacked-mnist: 258 of
#: 1,000 modes after 2,500 steps against WGAN-GP's 921 (docs/training.md). It stays four settings away:
#: --set loss=bce --set drift=0 --set r1_gamma=0.1 --set r1_every=16. WGAN-GP's gradient penalty already
#: regularizes D, so R1 stays off here even when fine-tuning (r1_gamma 0, not the trainer's auto).
PROGAN_SETTINGS = {
    "image_size": 32,
    "sample_every": 250,
    "checkpoint_every": 500,
    "trainer": {"lr_g": 1e-3, "lr_d": 1e-3, "beta1_g": 0.0, "beta2_g": 0.99, "beta1_d": 0.0, "beta2_d": 0.99,
                "drift": 1e-3, "ema_images": 2000, "ema_rampup": 0.05, "r1_gamma": 0.0},
}


@hookimpl
def register_recipes(register):
    register(Recipe("progan", trainer="progan", generator="progan", discriminator="progan", loss="wgan-gp",
                    settings=PROGAN_SETTINGS,
                    description="ProGAN (Karras et al. 2018): grow from 4x4 with the paper's WGAN-GP and "
                                "epsilon drift; --set msg=true for multi-scale gradients (MSG-GAN) without "
                                "growing."))
