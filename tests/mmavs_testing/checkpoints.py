# Copyright (c) mmavs contributors. All rights reserved.
"""Checkpoint files for the safe-loading tests: a malicious one whose pickle writes a marker.

:func:`write_malicious_checkpoint` saves a normal-looking checkpoint (the given state dict and
meta) with one extra object whose unpickling calls ``exec`` to create ``marker``. Loading it with
full unpickling (``weights_only=False``) creates the file; a weights-only load must refuse it
before anything runs, so the marker never appears.
"""
from pathlib import Path
from typing import Mapping, Optional

import torch


class MarkerPayload:
    """Unpickles as ``exec("open(marker, 'w').write('payload ran')")``."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('payload ran')", ))


def write_malicious_checkpoint(path: Path,
                               marker: Path,
                               state_dict: Optional[Mapping] = None,
                               meta: Optional[dict] = None) -> Path:
    """Save ``dict(state_dict=..., meta=..., payload=MarkerPayload(marker))`` to ``path``.

    Args:
        path (Path): The checkpoint to write.
        marker (Path): The file the payload creates when the checkpoint is fully unpickled.
        state_dict (Mapping, optional): Weights to carry (a plain tensor dict). Default: one
            tensor.
        meta (dict, optional): The ``meta`` entry. Default ``dict(epoch=1, iter=1)``.

    Returns:
        Path: ``path``.
    """
    ckpt = dict(
        state_dict=dict(state_dict if state_dict is not None else {'w': torch.ones(2)}),
        meta=dict(meta if meta is not None else dict(epoch=1, iter=1)),
        payload=MarkerPayload(marker))
    torch.save(ckpt, path)
    return path


def write_truncated_copy(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    """Write the first ``fraction`` of the bytes of ``src`` to ``dst`` (a cut download)."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[:max(1, int(len(data) * fraction))])
    return Path(dst)
