# Copyright (c) mmavs contributors. All rights reserved.
"""Make the registry's CUDA-built torchvision wheel importable beside the CPU-only torch.

Why: the only torchvision for torch 2.13 that the package registries offer (0.28.0) is a CUDA build.
Its C++ extension cannot load without ``libtorch_cuda.so``; torchvision tolerates that, except for
two unguarded ``@torch.library.register_fake("torchvision::nms"/"qnms")`` decorators in
``torchvision/_meta_registrations.py``, which then raise
``RuntimeError: operator torchvision::nms does not exist`` at ``import torchvision``.
mmpretrain's models and mmengine import torchvision, so mmavs needs it to import.

What: only when ``import torchvision`` fails with exactly that error, those two decorator lines are
rewritten to register the fake kernels only when the extension loaded. Nothing else changes:
transforms, models and pure-python ops work; compiled ops (``nms``, ``roi_align``) keep raising
torchvision's own "Couldn't load custom C++ ops" error. Idempotent; exits non-zero if torchvision
still does not import afterwards.
"""
import re
import subprocess
import sys
from pathlib import Path

_SYMPTOM = 'operator torchvision::nms does not exist'
_DECORATOR = re.compile(r'^@torch\.library\.register_fake\("torchvision::(q?nms)"\)$', re.M)
_GUARDED = ('@(torch.library.register_fake("torchvision::\\1") '
            'if torchvision.extension._has_ops() else (lambda fn: fn))')


def _import_error() -> str:
    """Return the stderr of ``import torchvision`` in a fresh interpreter ('' on success)."""
    proc = subprocess.run([sys.executable, '-c', 'import torchvision'],
                          capture_output=True,
                          text=True)
    return '' if proc.returncode == 0 else proc.stderr


def main() -> int:
    error = _import_error()
    if not error:
        print('torchvision imports: no patch needed')
        return 0
    if _SYMPTOM not in error:
        print(f'torchvision fails to import for another reason:\n{error}', file=sys.stderr)
        return 1
    import importlib.util
    spec = importlib.util.find_spec('torchvision')
    target = Path(list(spec.submodule_search_locations)[0]) / '_meta_registrations.py'
    source = target.read_text()
    patched, count = _DECORATOR.subn(_GUARDED, source)
    if count != 2:
        print(
            f'expected 2 register_fake decorators for nms/qnms in {target}, found {count}',
            file=sys.stderr)
        return 1
    target.write_text(patched)
    for cached in target.parent.glob('__pycache__/_meta_registrations*.pyc'):
        cached.unlink()
    error = _import_error()
    if error:
        print(
            f'torchvision still fails to import after patching {target}:\n{error}', file=sys.stderr)
        return 1
    print(f'patched {target}: torchvision imports (compiled ops unavailable on CPU torch)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
