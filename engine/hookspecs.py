"""The pluggy hook specifications: the whole public surface a plugin can implement.

Registration hooks receive a ``register`` callback (the simonw/llm style), so a
plugin says *what* it adds and the engine decides *how* it is stored.
Every hook here is documented in docs/plugins.md, and tests/test_packaging.py checks that the
engine calls each one.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("artengine")
hookimpl = pluggy.HookimplMarker("artengine")


@hookspec
def register_generators(register):
    """Add generator networks: ``register(name, factory, config=ConfigClass, description=...)``."""


@hookspec
def register_discriminators(register):
    """Add discriminator networks: ``register(name, factory, config=ConfigClass, description=...)``."""


@hookspec
def register_losses(register):
    """Add losses (adversarial, style, content, regularizers): ``register(name, factory, config=...)``."""


@hookspec
def register_trainers(register):
    """Add trainers, the loops that turn data into weights: ``register(name, TrainerClass, config=...)``."""


@hookspec
def register_recipes(register):
    """Add recipes, named trainer + component defaults: ``register(Recipe(...))``."""


@hookspec
def register_datasets(register):
    """Add datasets: ``register(name, factory, config=ConfigClass, description=..., source=..., license=...)``."""


@hookspec
def register_exporters(register):
    """Add model exporters (e.g. ONNX): ``register(name, factory, config=..., description=...)``."""


@hookspec
def register_feature_extractors(register):
    """Add pretrained feature networks for perceptual losses (e.g. VGG): ``register(name, factory, config=...)``."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``artengine`` CLI: ``cli.add_command(...)``."""


@hookspec
def on_train_start(trainer):
    """Called once before the first step, after a resume has restored state."""


@hookspec
def on_step_end(trainer, step, metrics):
    """Called after every optimization step with that step's metrics (a dict of floats)."""


@hookspec
def on_epoch_end(trainer, epoch):
    """Called when the trainer has seen every training image once more."""


@hookspec
def on_train_end(trainer, reason):
    """Called once when training stops; ``reason`` is 'done', 'interrupted', 'diverged' or 'error'."""
