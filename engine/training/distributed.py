"""Process-group facts, so trainers work unchanged under torchrun (DDP).

Only rank 0 writes files; data streams shard by rank. torchrun starts the
processes and sets RANK/WORLD_SIZE; :func:`init_if_launched` joins the process
group it describes (a single process never creates one).
"""

from __future__ import annotations

import os


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def init_if_launched(device_type: str) -> bool:
    """Join the process group torchrun set up (gloo on CPU, nccl on CUDA); False when single-process."""
    if world_size() <= 1:
        return False
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return True


def leave() -> None:
    """Wait for every rank, then leave the process group. Without it a rank that finishes first exits
    while rank 0 still writes the final checkpoint, and gloo's threads abort that rank (SIGABRT)."""
    if world_size() <= 1:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
