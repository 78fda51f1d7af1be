# Copyright (c) mmavs contributors. All rights reserved.
"""Inference on a user's own frames and audio, in the shape of ``mmseg.apis``.

.. code:: python

    from mmavs.apis import inference_model, init_model
    model = init_model('configs/tpavi/CONFIG.py', 'epoch_60.pth', device='cpu')
    results = inference_model(model, ['f_1.png', 'f_2.png'], 'clip.wav')
    results[0].pred_sem_seg.data      # long [1, H, W], 1 = sounding (gated when gating is on)
    results[0].seg_logits.data        # float [1, H, W], mask probability, never gated
    results[0].pred_similarity        # Tensor[], audio-visual similarity probability

The frames go through the config's own test pipeline with ``LoadImageFromNDArray`` in place of
the file loader (as ``mmseg.apis.inference_model`` does); the transforms that read annotations
or audio files are dropped and each frame's log-mel example (and, for a clip-level model, its
clip) is put into the sample directly (:mod:`mmavs.audio.frame_examples`). A frame whose resized
side is below the model's minimum (:func:`min_input_size`) is padded. Predictions come back at each
frame's original size. The gate threshold follows :func:`mmavs.utils.gate.resolve_gate_thr`.
"""
import copy
import os.path as osp
import warnings
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from ..audio.frame_examples import AudioLike, clip_windows, featurise_for_frames
from ..utils.checkpoint import CheckpointLoadError
from ..utils.constants import FRAMES_PER_CLIP
from ..utils.gate import resolve_gate_thr
from ..utils.image import read_frame

ConfigLike = Union[str, Path, Config]
FrameLike = Union[str, Path, np.ndarray]

#: Pipeline transforms removed for inference (they read annotations or audio files).
DROPPED_TRANSFORMS = ('AddNegativeAudio', 'LoadAVSMask', 'LoadAnnotations', 'LoadAVSAudio')


def _load_config(config: ConfigLike) -> Config:
    if isinstance(config, (str, Path)):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(f'config file not found: {config}')
        return Config.fromfile(str(config))
    if isinstance(config, Config):
        return copy.deepcopy(config)
    raise TypeError(f'expected a config path or mmengine Config, found {type(config).__name__}')


def init_model(config: ConfigLike,
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               gate_thr: Optional[float] = None,
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build an AV segmentor from a config, load a checkpoint, set its gating threshold.

    Args:
        config (str | Path | Config): Config file or object (its ``model`` is built).
        checkpoint (str, optional): Checkpoint file (a Runner checkpoint with ``state_dict``, or a
            plain state dict). Loaded strictly: missing or unexpected keys are an error. None
            keeps the random initialisation.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:0'``... Defaults to ``'cpu'``.
        gate_thr (float, optional): Gating threshold in [0, 1] (see
            :func:`~mmavs.utils.gate.resolve_gate_thr` for the precedence).
        cfg_options (dict, optional): Config overrides (``Config.merge_from_dict``).

    Returns:
        nn.Module: The model in eval mode on ``device``, with ``model.cfg`` (the config),
        ``model.gate_thr``, ``model.dataset_meta`` (from the checkpoint, if any) and
        ``model.checkpoint_meta``.

    Raises:
        FileNotFoundError: Config or checkpoint missing.
        CheckpointLoadError: The checkpoint is truncated, corrupt or holds objects outside the
            weights-only allow-list (see :mod:`mmavs.utils.checkpoint`).
        ValueError: The checkpoint does not match the model, or a threshold is set for a model
            without a similarity head; the message names the file.
    """
    cfg = _load_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.pretrained = None
    cfg.model.train_cfg = None
    config_thr = cfg.model.get('gate_thr', None)
    cfg.model.gate_thr = None
    model = MODELS.build(cfg.model)
    meta = {}
    if checkpoint is not None:
        if not osp.isfile(str(checkpoint)):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        try:
            ckpt = load_checkpoint(model, str(checkpoint), map_location='cpu', strict=True)
        except CheckpointLoadError:
            raise  # refused, truncated or corrupt: its message names the file and the opt-in
        except RuntimeError as exc:
            raise ValueError(f'checkpoint {checkpoint} does not match the model of the config: '
                             f'{exc}') from exc
        meta = dict(ckpt.get('meta') or {}) if isinstance(ckpt, dict) else {}
    thr = resolve_gate_thr(gate_thr, meta, config_thr, checkpoint)
    if thr is not None:
        if getattr(model, 'similarity_head', None) is None:
            raise ValueError(f'gate threshold {thr} given, but the model of the config has no '
                             'similarity head to gate by')
        model.gate_thr = thr
    model.cfg = cfg
    model.dataset_meta = meta.get('dataset_meta')
    model.checkpoint_meta = meta
    model.to(device)
    model.eval()
    return model


def _inner_dataset_cfg(dataset_cfg: dict) -> dict:
    """The dataset config that holds ``pipeline`` (unwrapping ``dataset``/``datasets``)."""
    cfg = dataset_cfg
    for _ in range(16):
        if 'pipeline' in cfg:
            return cfg
        if cfg.get('dataset') is not None:
            cfg = cfg['dataset']
        elif cfg.get('datasets'):
            cfg = cfg['datasets'][0]
        else:
            break
    raise ValueError(f'expected a dataset config with a "pipeline", found keys {sorted(cfg)}')


def inference_pipeline_cfg(cfg: Config) -> List[dict]:
    """The config's test pipeline for in-memory frames (see the module docstring)."""
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    if loader is None or loader.get('dataset') is None:
        raise ValueError('expected test_dataloader.dataset (or val_dataloader.dataset) with a '
                         'pipeline in the config, found none')
    pipeline = []
    for transform in _inner_dataset_cfg(loader['dataset'])['pipeline']:
        transform = copy.deepcopy(dict(transform))
        name = str(transform.get('type', '')).split('.')[-1]
        if name in DROPPED_TRANSFORMS:
            continue
        if name in ('LoadImageFromFile', 'LoadAVSFrame'):
            transform = dict(type='LoadImageFromNDArray')
        pipeline.append(transform)
    if not any(str(t.get('type', '')).endswith('PackAVSegInputs') for t in pipeline):
        pipeline.append(dict(type='PackAVSegInputs'))
    return pipeline


def _as_frame(frame: FrameLike) -> np.ndarray:
    if isinstance(frame, (str, Path)):
        return read_frame(str(frame))
    img = np.asarray(frame)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f'expected a BGR uint8 frame [H, W, 3], found {img.dtype} '
                         f'{tuple(img.shape)}')
    return img


#: Smallest side (px) a stride-32 backbone accepts when the config does not say
#: (``data_preprocessor.size_divisor``): its last stage needs one token, and the spatial-reduction
#: attention of MiT / PVT-v2 (``sr_ratio`` 8 at stride 4) eight.
DEFAULT_MIN_SIZE = 32


def min_input_size(model: torch.nn.Module) -> int:
    """The smallest image side the model accepts: ``size_divisor`` of its data preprocessor
    (the granularity the config declares), else :data:`DEFAULT_MIN_SIZE`."""
    divisor = getattr(getattr(model, 'data_preprocessor', None), 'size_divisor', None)
    return int(divisor) if divisor else DEFAULT_MIN_SIZE


def pad_to_min_size(packed: dict, min_size: int) -> dict:
    """Pad a packed frame whose resized side is below ``min_size`` (bottom / right, zeros).

    A frame of an extreme aspect ratio (200 x 30) keeps a side of a few pixels after the test
    pipeline's ``Resize(keep_ratio=True)``, too small for the backbone. The padding is recorded
    as ``padding_size`` (``[left, right, top, bottom]``), which MMSeg's ``postprocess_result``
    crops away before resizing the prediction to the frame's original size.
    """
    img = packed['inputs']['img']  # [3, h, w]
    h, w = img.shape[-2:]
    pad_h, pad_w = max(0, min_size - h), max(0, min_size - w)
    if pad_h or pad_w:
        packed['inputs']['img'] = torch.nn.functional.pad(img, (0, pad_w, 0, pad_h), value=0)
        # logits come back at pad_shape, then the padding is cropped
        packed['data_samples'].set_metainfo(
            dict(padding_size=[0, pad_w, 0, pad_h], pad_shape=(h + pad_h, w + pad_w)))
    return packed


def inference_model(model: torch.nn.Module,
                    frames: Sequence[FrameLike],
                    audio: AudioLike = None,
                    sample_rate: Optional[int] = None,
                    frame_times: Optional[Sequence[float]] = None,
                    batch_size: int = 8,
                    frame_names: Optional[Sequence[str]] = None,
                    keep_log_mel: bool = False) -> List[SegDataSample]:
    """Segment the sounding objects of frames given their audio.

    Args:
        model (nn.Module): An AV segmentor from :func:`init_model` (needs ``model.cfg``).
        frames (sequence): BGR uint8 ``[H, W, 3]`` arrays or image paths; sizes may differ.
        audio: Sound file path, waveform (``[T]`` or ``[T, C]``, with ``sample_rate``), or None
            for silence.
        sample_rate (int, optional): Sample rate of a waveform (Hz).
        frame_times (sequence of float, optional): Time of each frame (s); default ``0, 1, 2,
            ...`` (one frame per second).
        batch_size (int): Frames per forward pass (consecutive frames of one size are
            batched). Defaults to 8.
        frame_names (sequence of str, optional): Names of the frames in error messages
            (default: the path of a frame given as a path, else ``frame <i>``).
        keep_log_mel (bool): Also return what each frame heard as the data field
            ``audio_log_mel`` (``[96, 64]``, or ``[E, 96, 64]`` for a clip-level model), for
            drawing. Defaults to False.

    Returns:
        list[SegDataSample]: One per frame (on the CPU), with ``seg_logits``, ``pred_sem_seg``
        and ``pred_similarity`` (with a similarity head) at the frame's original size; metainfo
        ``frame_idx``, ``frame_time`` (s) and ``audio_example`` (the example index it heard).
    """
    if not frames:
        raise ValueError('expected at least one frame, found none')
    if batch_size < 1:
        raise ValueError(f'expected batch_size >= 1, found {batch_size}')
    times = list(range(len(frames))) if frame_times is None else [float(t) for t in frame_times]
    if len(times) != len(frames):
        raise ValueError(f'expected one time per frame, found {len(times)} times for '
                         f'{len(frames)} frames')
    if frame_names is None:
        frame_names = [
            str(f) if isinstance(f, (str, Path)) else f'frame {i}' for i, f in enumerate(frames)
        ]
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError('the model has no .cfg; build it with mmavs.apis.init_model')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    pipeline = Compose(inference_pipeline_cfg(cfg))
    # the audio is read and featurised once, for the frames' examples and their clips
    clip_len = FRAMES_PER_CLIP if getattr(model, 'needs_audio_clip', False) else None
    indices, featurised = featurise_for_frames(audio, times, sample_rate, clip_len)
    examples = featurised[torch.from_numpy(indices)].float()
    clips = clip_windows(featurised, indices, clip_len) if clip_len else None
    results: List[SegDataSample] = []
    min_size = min_input_size(model)
    model.eval()

    def run(batch: List[dict], first: int) -> None:
        with torch.no_grad():
            outputs = model.test_step(pseudo_collate(batch))
        for j, out in enumerate(outputs):
            i = first + j
            out.set_metainfo(dict(frame_time=times[i], audio_example=int(indices[i])))
            if keep_log_mel:
                out.audio_log_mel = clips[i] if clips is not None else examples[i]
            results.append(out.cpu())

    # Consecutive frames of one (resized) size are batched: the data preprocessor stacks them.
    batch, first = [], 0
    for i, frame in enumerate(frames):
        sample = dict(
            img=_as_frame(frame),
            audio=examples[i].clone(),
            frame_idx=i,
            condition='positive',
            is_sounding=1)
        if clips is not None:
            sample['audio_clip'] = clips[i].clone()
        try:
            packed = pipeline(sample)
        except Exception as exc:  # noqa: BLE001 - transforms raise many types on such frames
            name = frame_names[i] if frame_names else f'frame {i}'
            h, w = sample['img'].shape[:2]
            raise ValueError(f'cannot prepare {name} ({w} x {h} px) for the model: '
                             f'{type(exc).__name__}: {exc}. Frames must keep at least 1 px per '
                             f'side after the test resize; sides below {min_size} px are '
                             'padded') from exc
        packed = pad_to_min_size(packed, min_size)
        if batch and (len(batch) == batch_size
                      or packed['inputs']['img'].shape != batch[0]['inputs']['img'].shape):
            run(batch, first)
            batch, first = [], i
        batch.append(packed)
    run(batch, first)
    return results


def init_avs_model(*args, **kwargs) -> torch.nn.Module:
    """Deprecated name of :func:`init_model` (kept for one release)."""
    warnings.warn(
        'mmavs.apis.init_avs_model is deprecated; use mmavs.apis.init_model',
        DeprecationWarning,
        stacklevel=2)
    return init_model(*args, **kwargs)


def inference_avs(*args, **kwargs) -> List[SegDataSample]:
    """Deprecated name of :func:`inference_model` (kept for one release)."""
    warnings.warn(
        'mmavs.apis.inference_avs is deprecated; use mmavs.apis.inference_model',
        DeprecationWarning,
        stacklevel=2)
    return inference_model(*args, **kwargs)
