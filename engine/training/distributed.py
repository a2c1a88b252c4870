"""Process-group facts, so trainers work unchanged under torchrun (DDP).

Only rank 0 writes files; data streams shard by rank. Nothing here starts a
process group: torchrun and ``torch.distributed.init_process_group`` do.
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
