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


@hookimpl
def register_recipes(register):
    register(Recipe("progan", trainer="progan", generator="progan", discriminator="progan", loss="wgan-gp",
                    settings={"image_size": 32, "sample_every": 250, "checkpoint_every": 500},
                    description="ProGAN (Karras et al. 2018): grow from 4x4 with WGAN-GP + epsilon drift; "
                                "--set msg=true for multi-scale gradients (MSG-GAN) without growing."))
