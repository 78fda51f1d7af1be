# Copyright (c) mmavs contributors. All rights reserved.
"""Run-time compatibility fixes for the pinned stack on a CPU-only torch.

This is the one place where mmavs adapts the environment; it is applied once, by ``import mmavs``
(which the tools, the tests and ``custom_imports=dict(imports=['mmavs'])`` all do first).
Each fix is a no-op where it is not needed.

1. **torch >= 2.6 loads checkpoints with ``weights_only=True`` by default.** mmengine 0.10.7 calls
   ``torch.load(f, map_location=...)``, and Runner checkpoints hold mmengine/numpy objects
   (``message_hub``: ``HistoryBuffer``, numpy arrays and dtypes), so ``--resume``, ``load_from`` and
   ``load_checkpoint`` raise ``UnpicklingError``. Allow-listing every numpy internal is brittle, so
   ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` is set (torch honours it only where the caller did not pass
   ``weights_only`` itself; read at call time). A user who set the variable keeps their value.
   Only load checkpoints you trust, as with any pickle.
2. **``torch.cuda.set_device`` on a CPU-only build.** ``mmengine.dist`` calls it unconditionally when
   launched by ``torchrun`` (``launcher='pytorch'``), which raises ``AttributeError`` without CUDA.
   Where CUDA is unavailable it is replaced by a no-op (there is no device to select).

Two more environment facts are handled outside Python code: the CUDA-built torchvision wheel is
patched at install time (``tools/misc/patch_torchvision.py``), and CPU DDP needs
``model_wrapper_cfg=dict(device_ids=None)`` and the gloo backend (``configs/_base_/default_runtime.py``).
"""
import os
import warnings

import torch

_APPLIED = False


def _allow_full_checkpoint_unpickling() -> None:
    os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    # torch warns at every load that the variable is set; it is set on purpose (see above).
    warnings.filterwarnings(
        'ignore', message='Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected')


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
    _allow_full_checkpoint_unpickling()
    _cpu_safe_cuda_set_device()
    _APPLIED = True
