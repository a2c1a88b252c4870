"""Run exported artengine models with onnxruntime and numpy only (never torch).

>>> from artengine.runtime import load_model, latents
>>> model = load_model("model.onnx")
>>> images = model.generate(latents(seed=1, n=8, dim=model.latent_dim))   # float32 [8, C, H, W] in [0, 1]

Importing this package must stay cheap and torch-free: `artengine render` and
apps embedding a model rely on it (a test checks ``sys.modules``).
"""

from __future__ import annotations

from .latents import interpolation_path, latent, latents, slerp
from .model import Model, load_model

__all__ = ["Model", "interpolation_path", "latent", "latents", "load_model", "slerp"]
