# Copyright (c) mmavs contributors. All rights reserved.
"""Run-time fixes for the pinned stack, applied once by ``import mmavs``, each narrowly.

1. **Checkpoints load weights-only, with MMEngine's types allowed.** torch (>= 2.6) refuses
   MMEngine Runner checkpoints under its safe default (their message hub holds ``HistoryBuffer``
   and numpy arrays), so ``--resume``, ``load_from`` and ``load_checkpoint`` would fail. mmavs
   allow-lists exactly those data types and reads local files through its own loader, which
   keeps ``weights_only=True`` and names the file and the opt-in when it refuses one
   (:mod:`mmavs.utils.checkpoint`). torch's process-wide default is left as it is.
2. **``torch.cuda.set_device`` on a CPU-only build.** ``mmengine.dist`` calls it unconditionally
   when launched by ``torchrun`` (``launcher='pytorch'``), which raises ``AttributeError`` without
   CUDA. Where CUDA is unavailable it is replaced by a no-op (there is no device to select).

Two more environment facts are handled outside Python code: the CUDA-built torchvision wheel is
patched at install time (``tools/misc/patch_torchvision.py``), and CPU DDP needs
``model_wrapper_cfg=dict(device_ids=None)`` and the gloo backend
(``configs/_base_/default_runtime.py``).
"""
import torch

from .checkpoint import allow_runner_checkpoint_types, register_safe_local_loader

_APPLIED = False


def _cpu_safe_cuda_set_device() -> None:
    if torch.cuda.is_available():
        return
    if getattr(torch.cuda.set_device, '_mmavs_cpu_noop', False):
        return

    def set_device(device) -> None:  # noqa: ARG001 - no device to select
        """No-op replacement of :func:`torch.cuda.set_device` on CPU-only torch."""

    set_device._mmavs_cpu_noop = True
    torch.cuda.set_device = set_device


def apply_compat_fixes() -> None:
    """Apply every fix of this module once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    allow_runner_checkpoint_types()
    register_safe_local_loader()
    _cpu_safe_cuda_set_device()
    _APPLIED = True
