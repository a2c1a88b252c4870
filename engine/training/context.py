"""The run context: what a trainer gets from the engine (its typed run config, the registry, the
run directory, the device), and nothing global."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..registry import Registry
from ..runconfig import SECTION_KIND, RunConfig
from ..rundir import RunDir
from . import distributed
from .precision import pick_device, resolve_precision


@dataclass
class TrainContext:
    config: RunConfig
    registry: Registry
    host: Any
    run: RunDir
    device: torch.device
    precision: str
    rank: int = 0
    world_size: int = 1
    quiet: bool = False
    resume: bool = False
    _dataset: Any = field(default=None, repr=False)

    @classmethod
    def create(cls, config: RunConfig, *, registry: Registry, host: Any, quiet: bool = False,
               resume: bool = False, device: str | None = None) -> TrainContext:
        """Pick the device (this rank's GPU under torchrun) and join the process group if launched."""
        dev = pick_device(device or config.settings.device)
        if dev.type == "cuda" and distributed.world_size() > 1:
            dev = torch.device("cuda", distributed.local_rank())
            torch.cuda.set_device(dev)
        distributed.init_if_launched(dev.type)
        return cls(config=config, registry=registry, host=host,
                   run=RunDir(config.settings.out, writer=distributed.is_main()), device=dev,
                   precision=resolve_precision(config.settings.precision, dev),
                   rank=distributed.rank(), world_size=distributed.world_size(), quiet=quiet, resume=resume)

    def build(self, section: str, **kwargs: Any) -> Any:
        """Build the component configured in ``section`` (generator, discriminator, loss, ...)."""
        chosen = self.config.section(section)
        return self.registry.get(SECTION_KIND[section], chosen.name).build(chosen.options, **kwargs)

    @property
    def dataset(self):
        """The training dataset, loaded on first use (export and sampling never need it)."""
        if self._dataset is None:
            s = self.config.settings
            self._dataset = self.build("dataset", image_size=s.image_size, channels=s.channels, seed=s.seed)
        return self._dataset
