"""Exporting trained networks to portable files that other apps embed.

The ONNX contract (documented in the README):

- generators: input ``z`` float32 ``[batch, latent_dim]`` (plus the extra inputs their metadata
  declares), output ``image`` float32 ``[batch, channels, height, width]`` in [0, 1];
- image-to-image models (fast style transfer): input ``content`` float32 ``[batch, 3, height, width]``
  in [0, 1], output ``image`` of the same layout; batch, height and width are dynamic;
- ``metadata_props`` carry ``artengine.*`` keys (kind, latent_dim, image_size, channels, recipe,
  dataset, version, step, config_hash, ...), see :mod:`artengine.export.metadata`.

Exporters are components (``register_exporters`` hook); the built-in ``onnx`` exporter is the
plugin :mod:`artengine.plugins.onnx_export`. This core package holds the contract: the metadata
(:mod:`.metadata`), the error (:mod:`.errors`) and ``export_run`` (:mod:`.api`). This package's
``__init__`` never imports torch.
"""

from __future__ import annotations

from .api import export_run

__all__ = ["export_run"]
