"""artengine-stylegan: StyleGAN2 networks, trainer and recipe as a third-party artengine plugin.

Everything is registered through artengine's public hooks with lazy ``"module:attr"`` factories,
so listing plugins never imports torch.
"""

from __future__ import annotations

from artengine.hookspecs import hookimpl

__version__ = "0.1.0"

_NETS = "artengine_stylegan.networks"


@hookimpl
def register_generators(register):
    from .config import StyleGeneratorConfig

    register("stylegan", f"{_NETS}:build_generator", config=StyleGeneratorConfig,
             description="StyleGAN2 generator: mapping network z -> w (lr x0.01, tracked w average for "
                         "truncation), learned 4x4 constant, modulated + demodulated convs, noise inputs, "
                         "toRGB skips; sizes 8..256, 1/3/4 channels; tileable option.")


@hookimpl
def register_discriminators(register):
    from .config import StyleDiscriminatorConfig

    register("stylegan", f"{_NETS}:build_discriminator", config=StyleDiscriminatorConfig,
             description="StyleGAN2 residual discriminator with minibatch stddev and equalized lr; "
                         "tileable option.")


@hookimpl
def register_trainers(register):
    from .config import StyleGanTrainerConfig

    register("stylegan", "artengine_stylegan.trainer:StyleGanTrainer", config=StyleGanTrainerConfig,
             description="The GAN trainer plus StyleGAN2's regularizers: lazy R1, style mixing, optional "
                         "path-length regularization; exports z + psi (truncation) and, on request, "
                         "mapping and synthesis as two files.")


#: The recipe's defaults, sized for a CPU at 32 px (StyleGAN2-ADA's CIFAR settings, narrower).
STYLEGAN_SETTINGS = {
    "image_size": 32,
    "batch_size": 32,
    "precision": "auto",
    "sample_every": 200,
    "checkpoint_every": 500,
    # pack 4 and lr 1e-3: on stacked-mnist the StyleGAN2-ADA rates (2.5e-3, no packing) collapsed to 23 of
    # 1,000 modes in 5,749 steps; packed in pairs, lr 1e-3 peaked at 830 and fell to 644-668 by step 3,000;
    # packed in fours it recovered to 759-775 (docs/stylegan.md)
    "trainer": {"lr_g": 1e-3, "lr_d": 1e-3, "beta1_g": 0.0, "beta1_d": 0.0, "beta2_g": 0.99,
                "beta2_d": 0.99, "r1_gamma": 0.05, "r1_every": 16, "style_mixing": 0.9,
                "ema_beta": 0.998, "pack": 4},
    # channel_base / r channels at resolution r: every resolution costs the same, so the base sets the
    # step time; 1024 keeps a 32-px step within a few times dcgan's on a CPU
    "generator": {"latent_dim": 128, "w_dim": 128, "mapping_layers": 2, "channel_base": 1024,
                  "channel_max": 128},
    "discriminator": {"channel_base": 1024, "channel_max": 128},
}


@hookimpl
def register_recipes(register):
    from artengine.recipe import Recipe

    register(Recipe("stylegan", trainer="stylegan", generator="stylegan", discriminator="stylegan", loss="bce",
                    settings=STYLEGAN_SETTINGS,
                    description="StyleGAN2 (Karras et al. 2020) sized for a CPU: non-saturating loss, lazy R1, "
                                "style mixing, EMA generator; export with --psi truncation and style mixing."))
