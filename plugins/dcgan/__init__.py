"""Built-in DCGAN plugin: the DCGAN generator and discriminator, and the ``dcgan`` recipe.

The recipe trains with the ``gan`` trainer and ``bce`` loss of the GAN plugin; defaults are tuned so a
few CPU minutes give recognizable digits and colourful emoji. Factories are lazy strings: no torch import.
"""

from __future__ import annotations

from artengine.hookspecs import hookimpl
from artengine.recipe import Recipe

from . import config as c

_NETS = "artengine.plugins.dcgan.networks"


@hookimpl
def register_generators(register):
    register("dcgan", f"{_NETS}:build_generator", config=c.DcganGeneratorConfig,
             description="DCGAN generator: latent -> 4x4 -> transposed convs (BN, ReLU) -> tanh; sizes 8..128.")


@hookimpl
def register_discriminators(register):
    register("dcgan", f"{_NETS}:build_discriminator", config=c.DcganDiscriminatorConfig,
             description="DCGAN discriminator: strided convs, LeakyReLU, batch norm or none, optional "
                         "minibatch stddev and spectral norm -> logit.")


#: The recipe's defaults (documented in the README's DCGAN section; measured in bench/).
DCGAN_SETTINGS = {
    "image_size": 32,
    "batch_size": 64,
    "sample_every": 200,
    "checkpoint_every": 500,
    # finetune_lr_scale: fine-tuned from an emoji parent onto 100 smileys for 3 CPU minutes, lr x2.5 (with the
    # R1 that fine-tuning turns on) reached KID 0.017 and 0.012 (two seeds) against 0.030 at the base rates
    # (docs/small-data.md). r1_gamma 1 (lazily every 4 steps): without it D pulls ahead in long runs and G
    # collapses (15 AMX minutes, 43,228 steps: 32 of 1,000 stacked-mnist modes; with it 1,000; docs/training.md)
    "trainer": {"lr_g": 2e-4, "lr_d": 2e-4, "beta1_g": 0.5, "beta1_d": 0.5, "ema_beta": 0.999,
                "balance_threshold": 0.1, "finetune_lr_scale": 2.5, "r1_gamma": 1.0, "r1_every": 4},
    "generator": {"latent_dim": 100, "width": 32},
    "discriminator": {"width": 32},
}


@hookimpl
def register_recipes(register):
    register(Recipe("dcgan", trainer="gan", generator="dcgan", discriminator="dcgan", loss="bce",
                    settings=DCGAN_SETTINGS,
                    description="DCGAN with the non-saturating loss, EMA generator and the adaptive balance rule."))
