"""Readiness for torchrun (DDP): batch streams shard by rank, only rank 0 writes files."""

from __future__ import annotations

import json

import torch

from artengine.datasets.base import DatasetInfo, ImageDataset
from artengine.training.stream import BatchStream


def _indexed_dataset(n: int) -> ImageDataset:
    images = torch.arange(n, dtype=torch.uint8).reshape(n, 1, 1, 1)  # pixel value = index
    return ImageDataset(DatasetInfo("indexed"), channels=1, image_size=1, images=images)


def _epoch_indices(stream: BatchStream) -> list[int]:
    seen = []
    for _ in range(len(stream)):
        images, _ = stream.next()
        seen += ((images.flatten() + 1) * 127.5).round().long().tolist()
    return seen


def test_ranks_see_disjoint_shards_of_the_same_permutation():
    ds = _indexed_dataset(64)
    shards = [_epoch_indices(BatchStream(ds, 8, seed=3, device=torch.device("cpu"), rank=r, world_size=2))
              for r in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 32
    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == list(range(64))


def test_stream_resumes_mid_epoch_exactly():
    ds = _indexed_dataset(50)
    a = BatchStream(ds, 8, seed=1, device=torch.device("cpu"))
    for _ in range(3):
        a.next()
    b = BatchStream(ds, 8, seed=1, device=torch.device("cpu"))
    b.load_state(a.state())
    for _ in range(10):  # crosses an epoch boundary
        assert torch.equal(a.next()[0], b.next()[0])


def test_two_process_torchrun_training_writes_once(tmp_path):
    from tests.helpers_cli import run_torchrun_tiny_dcgan

    out = tmp_path / "ddp"
    proc = run_torchrun_tiny_dcgan(out, 3)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3]  # rank 0 only, no duplicates
    assert sorted(p.name for p in (out / "checkpoints").glob("step-*")) == [
        "step-000000003.json", "step-000000003.safetensors"]
