"""A resumable, shardable stream of training batches.

Each epoch is a permutation drawn from ``seed + epoch``; the position inside the
epoch is part of the checkpoint, so a resumed run sees exactly the batches an
uninterrupted run would. Under DDP each rank takes every ``world_size``-th index.
In-memory datasets are moved to the device once and indexed there.
"""

from __future__ import annotations

import torch

from ..datasets.base import ImageDataset


class BatchStream:
    """Yields ``(images, labels)``: float images in [-1, 1] on ``device``, int64 labels."""

    def __init__(self, dataset: ImageDataset, batch_size: int, *, seed: int, device: torch.device,
                 rank: int = 0, world_size: int = 1, channels_last: bool = False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.device = device
        self.rank = rank
        self.world_size = world_size
        self.channels_last = channels_last
        self.epoch = 0
        self.position = 0  # index into this rank's shard of the current permutation
        self.images_seen = 0
        self._order: torch.Tensor | None = None
        data = dataset.as_tensor()
        self._on_device = data.to(device) if data is not None else None
        labels = dataset.labels
        self._labels = labels.to(device) if labels is not None else None
        if len(dataset) < world_size * batch_size:
            self._repeat = (world_size * batch_size) // max(len(dataset), 1) + 1
        else:
            self._repeat = 1

    def __len__(self) -> int:
        """Batches per epoch for this rank."""
        return max(1, self._shard_size() // self.batch_size)

    def _shard_size(self) -> int:
        return (len(self.dataset) * self._repeat) // self.world_size

    def _permutation(self) -> torch.Tensor:
        if self._order is None:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            n = len(self.dataset)
            perm = torch.cat([torch.randperm(n, generator=g) for _ in range(self._repeat)])
            self._order = perm[self.rank::self.world_size]
        return self._order

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next batch; rolls over to a new epoch (dropping the ragged tail)."""
        order = self._permutation()
        if self.position + self.batch_size > len(order):
            self.epoch += 1
            self.position = 0
            self._order = None
            order = self._permutation()
        idx = order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        if self.position + self.batch_size > len(order):  # epoch done: roll over now, so
            self.epoch += 1  # on_epoch_end fires right after the step that finished it
            self.position = 0
            self._order = None
        self.images_seen += self.batch_size * self.world_size
        if self._on_device is not None:
            dev_idx = idx.to(self.device)
            images = self._on_device[dev_idx]
            labels = self._labels[dev_idx] if self._labels is not None else torch.full(
                (len(idx),), -1, dtype=torch.long, device=self.device)
        else:
            items = [self.dataset[int(i)] for i in idx]
            images = torch.stack([im for im, _ in items]).to(self.device, non_blocking=True)
            labels = torch.tensor([lab for _, lab in items], dtype=torch.long, device=self.device)
        images = images.float().div_(127.5).sub_(1.0)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images, labels

    def state(self) -> dict:
        return {"epoch": self.epoch, "position": self.position, "images_seen": self.images_seen}

    def load_state(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self.images_seen = int(state.get("images_seen", 0))
        self._order = None
