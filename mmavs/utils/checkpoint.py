# Copyright (c) mmavs contributors. All rights reserved.
"""Reading checkpoint files safely.

torch (>= 2.6) unpickles checkpoints with ``weights_only=True``: only tensors, containers and
allow-listed types are rebuilt, so a downloaded file cannot run code. mmavs keeps that default
everywhere and never changes it for the process. MMEngine's Runner checkpoints hold a few
data-only types beyond tensors (the message hub's ``HistoryBuffer`` with its numpy arrays);
:func:`allow_runner_checkpoint_types` adds exactly those to torch's allow-list.

Every local checkpoint read by mmavs, by MMEngine's Runner (``--resume``, ``load_from``), by
``load_checkpoint`` and by a ``Pretrained`` initialiser goes through :func:`load_checkpoint_file`
(registered as MMEngine's loader of local paths by :func:`register_safe_local_loader`): a file
that needs any other type is refused with an error that names the file, the type and the opt-in.

Plain pickles of tensors (AVSBench's log-mel ``.pkl`` caches) are read by
:func:`load_pickle_file`, an unpickler that rebuilds tensors, numpy arrays and containers only.

**Opt-in for a trusted legacy file**: ``MMAVS_UNSAFE_LOAD=1`` in the environment (the tools'
``--unsafe-load`` sets it for their own process) loads with ``weights_only=False``. Full
unpickling runs whatever code the file contains: use it only for files you made or trust.
"""
import io
import os
import os.path as osp
import pickle
import zipfile
from typing import Any, List, Optional

import numpy as np
import torch

#: Environment variable of the opt-in (``1``, ``true`` or ``yes``).
UNSAFE_LOAD_ENV = 'MMAVS_UNSAFE_LOAD'


class CheckpointLoadError(RuntimeError):
    """A checkpoint file is truncated, corrupt or needs unsafe unpickling (the message names
    it)."""


def unsafe_load_enabled() -> bool:
    """Whether the user opted in to full unpickling (``MMAVS_UNSAFE_LOAD``)."""
    return os.environ.get(UNSAFE_LOAD_ENV, '').strip().lower() in ('1', 'true', 'yes')


def _history_buffer_method(obj: Any, name: str) -> Any:
    """``getattr`` as a checkpoint may use it: a ``HistoryBuffer`` pickles its statistics
    methods (``HistoryBuffer.mean``, ...) by name; nothing else may be looked up."""
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and isinstance(name, str) and not name.startswith('_') and callable(
            getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f'a checkpoint may only look up HistoryBuffer methods, found '
                                 f'getattr({obj!r}, {name!r})')


def runner_checkpoint_types() -> List[Any]:
    """The non-tensor types MMEngine Runner checkpoints hold (data only, no code).

    ``builtins.getattr`` is mapped to :func:`_history_buffer_method`, which resolves nothing
    but ``HistoryBuffer``'s public methods.
    """
    from mmengine.logging import HistoryBuffer
    types = [HistoryBuffer, np.ndarray, np.dtype, (_history_buffer_method, 'builtins.getattr')]
    multiarray = getattr(np, '_core', None)
    multiarray = getattr(multiarray, 'multiarray', None) or np.core.multiarray
    types += [multiarray._reconstruct, multiarray.scalar]
    # numpy >= 1.25 pickles dtypes as instances of their classes (numpy.dtypes.Float64DType, ...)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        types += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]
    return types


def allow_runner_checkpoint_types() -> None:
    """Allow-list :func:`runner_checkpoint_types` for torch's weights-only unpickler."""
    torch.serialization.add_safe_globals(runner_checkpoint_types())


def load_checkpoint_file(path: str,
                         map_location: Any = 'cpu',
                         unsafe: Optional[bool] = None) -> Any:
    """``torch.load`` a local file, weights-only unless the user opted in.

    Args:
        path (str): The checkpoint file.
        map_location: As for ``torch.load``. Defaults to ``'cpu'``.
        unsafe (bool, optional): Full unpickling; None (default) reads ``MMAVS_UNSAFE_LOAD``.

    Raises:
        FileNotFoundError: The file does not exist.
        CheckpointLoadError: The file is truncated or corrupt, or holds a type outside the
            allow-list; the message names the file and, for the latter, the opt-in.
    """
    path = str(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    unsafe = unsafe_load_enabled() if unsafe is None else unsafe
    try:
        return torch.load(path, map_location=map_location, weights_only=not unsafe)
    except pickle.UnpicklingError as exc:
        if unsafe or 'weights_only' not in str(exc).lower().replace(' ', '_'):
            raise CheckpointLoadError(f'cannot read the checkpoint {path}: {exc}') from None
        first = str(exc).strip().splitlines()[0]
        raise CheckpointLoadError(
            f'refused to load {path}: it holds objects outside the types a checkpoint needs '
            f'({first}). Loading them would run code from the file. If you made the file or '
            f'trust its source, set {UNSAFE_LOAD_ENV}=1 (or pass --unsafe-load to the mmavs '
            'tools).') from None
    except (EOFError, zipfile.BadZipFile, RuntimeError, OSError) as exc:
        raise CheckpointLoadError(f'cannot read the checkpoint {path} (truncated or not a '
                                  f'checkpoint?): {type(exc).__name__}: {exc}') from None


def _load_storage_weights_only(data: bytes) -> Any:
    """``torch.storage._load_from_bytes``, weights-only (torch's own unpickles fully)."""
    return torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)


#: ``(module, name)`` a plain pickle of tensors or numpy arrays may reference.
_PICKLE_ALLOWED = {
    ('torch._utils', '_rebuild_tensor'),
    ('torch._utils', '_rebuild_tensor_v2'),
    ('collections', 'OrderedDict'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    ('_codecs', 'encode'),
}


class _TensorUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds tensors, numpy arrays and containers and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ('torch.storage', '_load_from_bytes'):
            return _load_storage_weights_only
        if (module, name) in _PICKLE_ALLOWED or (module == 'numpy.dtypes'
                                                 and name.endswith('DType')):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'weights_only: {module}.{name} is not a tensor or array type')


def load_pickle_file(path: str, unsafe: Optional[bool] = None) -> Any:
    """Read a plain :mod:`pickle` of tensors / numpy arrays (AVSBench's log-mel ``.pkl``) safely.

    Like :func:`load_checkpoint_file` for pickles that are not ``torch.save`` archives: only
    tensors, numpy arrays and containers are rebuilt unless the user opted in.

    Raises:
        CheckpointLoadError: The file holds anything else (the message names the file and the
            opt-in) or is not a readable pickle.
    """
    unsafe = unsafe_load_enabled() if unsafe is None else unsafe
    try:
        with open(path, 'rb') as f:
            return pickle.load(f) if unsafe else _TensorUnpickler(f).load()
    except pickle.UnpicklingError as exc:
        if unsafe or 'weights_only' not in str(exc):
            raise CheckpointLoadError(f'cannot read the pickle {path}: {exc}') from None
        raise CheckpointLoadError(
            f'refused to load {path}: it holds objects outside tensors and arrays ({exc}). '
            f'Loading them would run code from the file. If you made the file or trust its '
            f'source, set {UNSAFE_LOAD_ENV}=1 (or pass --unsafe-load to the mmavs tools).'
        ) from None
    except (EOFError, RuntimeError, ValueError, TypeError, AttributeError, OSError) as exc:
        raise CheckpointLoadError(f'cannot read the pickle {path} (truncated or not a pickle?): '
                                  f'{type(exc).__name__}: {exc}') from None


def read_checkpoint_meta(path: str) -> dict:
    """The ``meta`` dict of a checkpoint file (empty when it has none)."""
    ckpt = load_checkpoint_file(path)
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    return dict(meta) if isinstance(meta, dict) else {}


def read_gate_thr(path: str) -> Optional[float]:
    """The calibrated gate threshold ``meta['gate_thr']`` of a checkpoint, or None."""
    value = read_checkpoint_meta(path).get('gate_thr')
    return None if value is None else float(value)


def register_safe_local_loader() -> None:
    """Make MMEngine read local checkpoint paths with :func:`load_checkpoint_file`.

    Covers the Runner (``--resume``, ``load_from``), ``mmengine.runner.load_checkpoint`` and
    ``Pretrained`` initialisers (which all go through ``CheckpointLoader``); remote schemes
    (``http://``, ``s3://``...) are untouched.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    @CheckpointLoader.register_scheme(prefixes='', force=True)
    def load_from_local(filename: str, map_location: Any) -> Any:
        filename = osp.expanduser(filename)
        return load_checkpoint_file(filename, map_location=map_location)


def add_unsafe_load_argument(parser) -> None:
    """Add the tools' ``--unsafe-load`` flag (the documented opt-in) to an argparse parser."""
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help=f'load trusted legacy checkpoints with full unpickling (sets {UNSAFE_LOAD_ENV}=1 '
        'for this process; it runs any code a file contains: only for files you made or trust)')


def apply_unsafe_load_argument(args) -> None:
    """Opt this process in to full unpickling when the tool was given ``--unsafe-load``."""
    if getattr(args, 'unsafe_load', False):
        os.environ[UNSAFE_LOAD_ENV] = '1'
