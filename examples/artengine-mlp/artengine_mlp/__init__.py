"""artengine-mlp: fully connected GAN networks, registered through artengine's hooks."""

from __future__ import annotations

from dataclasses import dataclass

from artengine.config import option
from artengine.hookspecs import hookimpl


@dataclass
class MLPGeneratorConfig:
    latent_dim: int = option(64, min=1, max=4096, help="length of the latent vector z")
    hidden: int = option(256, min=8, max=8192, help="units per hidden layer")
    layers: int = option(2, min=1, max=8, help="hidden layers")


@dataclass
class MLPDiscriminatorConfig:
    hidden: int = option(256, min=8, max=8192, help="units per hidden layer")
    layers: int = option(2, min=1, max=8, help="hidden layers")


@hookimpl
def register_generators(register):
    register("mlp", "artengine_mlp.networks:MLPGenerator", config=MLPGeneratorConfig,
             description="Fully connected generator (the lesson's simplest GAN).")


@hookimpl
def register_discriminators(register):
    register("mlp", "artengine_mlp.networks:MLPDiscriminator", config=MLPDiscriminatorConfig,
             description="Fully connected discriminator.")


@hookimpl
def on_train_end(trainer, reason):
    if reason == "done" and trainer.run.writer:
        trainer.run.write_json("mlp-plugin.json", {"finished_at_step": trainer.step})
