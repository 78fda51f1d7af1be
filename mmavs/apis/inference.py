# Copyright (c) mmavs contributors. All rights reserved.
"""Inference on a user's own frames and audio: :func:`init_avs_model`, :func:`inference_avs`.

.. code:: python

    from mmavs.apis import inference_avs, init_avs_model
    model = init_avs_model('configs/synth/robust_synth_s4.py', 'epoch_60.pth', device='cpu')
    results = inference_avs(model, ['f_1.png', 'f_2.png'], 'clip.wav')
    results[0].pred_sem_seg.data      # long [1, H, W], 1 = sounding (gated when gating is on)
    results[0].seg_logits.data        # float [1, H, W], raw logits, never gated
    results[0].pred_similarity        # Tensor[], audio-visual similarity probability

**Frames and audio.** Frame ``i`` stands for time ``t_i`` (seconds, ``frame_times``; default
``t_i = i``: one frame per second, the AVSBench convention). It is paired with the log-mel example
of second ``floor(t_i)`` (example ``k`` covers ``[0.96 k, 0.96 k + 0.975)`` s), so with the
default frame ``i`` hears example ``i``, as in training. The whole clip is featurised once with
:func:`mmavs.audio.waveform_to_examples` (the training featurisation); a clip shorter than the
frames is padded by that function's rule (repeat the last example; a clip shorter than one example
is zero-padded first). No audio (``audio=None``) is digital silence, the AVSBench-Robust
``silence`` condition.

**Pipeline.** The frames go through the config's own test pipeline (``Resize`` etc.), taken from
``cfg.test_dataloader.dataset`` (unwrapping ``RobustTestDataset`` and other wrappers down to the
dataset that holds ``pipeline``): ``LoadImageFromFile`` becomes ``LoadImageFromNDArray``, and the
transforms that read annotations or audio files (``AddNegativeAudio``, ``LoadAVSMask``,
``LoadAnnotations``, ``LoadAVSAudio``) are dropped; the audio example is put into the sample
directly (and, for a model with clip-level audio, the examples of the frame's clip,
:func:`frame_clip_examples`). Predictions come back at each frame's original size.

**Gating threshold.** ``init_avs_model(gate_thr=p)`` > the checkpoint's ``meta['gate_thr']``
(written by ``tools/analysis_tools/calibrate_gate.py``) > the config's ``model.gate_thr``.
"""
import copy
import os.path as osp
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

from ..audio import VGGISH_SAMPLE_RATE, load_audio, num_examples_for, waveform_to_examples
from ..datasets.negatives import rms_dbfs
from .video import read_frame

ConfigLike = Union[str, Path, Config]
FrameLike = Union[str, Path, np.ndarray]
AudioLike = Union[None, str, Path, np.ndarray, torch.Tensor]

#: Examples in a clip (AVSBench: 5 s, one example per frame).
CLIP_EXAMPLES = 5
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


def read_checkpoint_meta(checkpoint: str) -> dict:
    """The ``meta`` dict of a checkpoint file (empty when it has none).

    Raises:
        FileNotFoundError: The file does not exist.
    """
    if not osp.isfile(str(checkpoint)):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    ckpt = torch.load(str(checkpoint), map_location='cpu', weights_only=False)
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    return dict(meta) if isinstance(meta, dict) else {}


def read_gate_thr(checkpoint: str) -> Optional[float]:
    """The calibrated gating threshold ``meta['gate_thr']`` of a checkpoint, or None.

    ``tools/test.py`` can use it when ``--gate-thr`` is not given:
    ``cfg.model.gate_thr = read_gate_thr(args.checkpoint)``.
    """
    value = read_checkpoint_meta(checkpoint).get('gate_thr')
    return None if value is None else float(value)


def _check_gate_thr(gate_thr: float, where: str) -> float:
    gate_thr = float(gate_thr)
    if not 0.0 <= gate_thr <= 1.0:
        raise ValueError(f'expected a gate threshold in [0, 1], found {gate_thr} ({where})')
    return gate_thr


def init_avs_model(config: ConfigLike,
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
        gate_thr (float, optional): Gating threshold in [0, 1] on the similarity probability.
            None uses the checkpoint's ``meta['gate_thr']`` if present, else ``model.gate_thr``
            of the config.
        cfg_options (dict, optional): Config overrides (``Config.merge_from_dict``).

    Returns:
        nn.Module: The model in eval mode on ``device``, with ``model.cfg`` (the config),
        ``model.gate_thr``, ``model.dataset_meta`` (from the checkpoint, if any) and
        ``model.checkpoint_meta``.

    Raises:
        FileNotFoundError: Config or checkpoint missing.
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
        except RuntimeError as exc:
            raise ValueError(f'checkpoint {checkpoint} does not match the model of the config: '
                             f'{exc}') from exc
        meta = dict(ckpt.get('meta') or {}) if isinstance(ckpt, dict) else {}
    if gate_thr is not None:
        thr = _check_gate_thr(gate_thr, 'gate_thr argument')
    elif meta.get('gate_thr') is not None:
        thr = _check_gate_thr(meta['gate_thr'], f"meta['gate_thr'] of {checkpoint}")
    elif config_thr is not None:
        thr = _check_gate_thr(config_thr, 'model.gate_thr of the config')
    else:
        thr = None
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


# ---------------------------------------------------------------------------- pipeline
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
    """The config's test pipeline adapted for in-memory frames (see the module docstring)."""
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


def build_inference_pipeline(cfg: Config) -> Compose:
    """:class:`Compose` of :func:`inference_pipeline_cfg` (built in the config's scope)."""
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return Compose(inference_pipeline_cfg(cfg))


# ---------------------------------------------------------------------------- audio
def example_indices(frame_times: Sequence[float]) -> np.ndarray:
    """Audio example of each frame: ``floor(t_i)`` (int64 ``[N]``, at least 0)."""
    times = np.asarray(frame_times, dtype=np.float64).reshape(-1)
    if times.size and not np.isfinite(times).all():
        raise ValueError(f'expected finite frame times, found {times}')
    return np.maximum(np.floor(times + 1e-6), 0).astype(np.int64)


def _waveform(audio: AudioLike, sample_rate: Optional[int], num_examples: int):
    """``(waveform float32 [T], sample rate)`` of any accepted audio input."""
    if audio is None:
        return np.zeros(num_examples * VGGISH_SAMPLE_RATE, np.float32), VGGISH_SAMPLE_RATE
    if isinstance(audio, (str, Path)):
        return load_audio(str(audio), target_sr=VGGISH_SAMPLE_RATE)
    if sample_rate is None:
        raise ValueError('a waveform array needs its sample_rate (Hz)')
    wave = audio.detach().cpu().numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio)
    if wave.ndim == 2:  # [T, C] (soundfile layout): mono mix
        wave = wave.mean(axis=1)
    if wave.ndim != 1:
        raise ValueError(f'expected a waveform [T] or [T, C], found shape {wave.shape}')
    if np.issubdtype(wave.dtype, np.integer):
        wave = wave.astype(np.float64) / float(np.iinfo(wave.dtype).max + 1)
    wave = wave.astype(np.float32)
    if wave.size and not np.isfinite(wave).all():
        raise ValueError('expected a finite waveform, found NaN or Inf samples')
    if wave.size == 0:
        return np.zeros(num_examples * VGGISH_SAMPLE_RATE, np.float32), VGGISH_SAMPLE_RATE
    return wave, int(sample_rate)


def _featurise(audio: AudioLike, frame_times: Sequence[float], sample_rate: Optional[int],
               clip_len: Optional[int] = None):
    """Featurise the audio once: ``(example index of each frame [N], examples [E, 96, 64])``.

    ``E`` covers every frame's example; with ``clip_len`` also every whole example of the audio
    and at least ``clip_len`` (room for each frame's clip window).
    """
    indices = example_indices(frame_times)
    count = int(indices.max()) + 1 if indices.size else 1
    wave, sr = _waveform(audio, sample_rate, max(count, clip_len or 1))
    if clip_len is not None:
        whole = num_examples_for(int(round(len(wave) * VGGISH_SAMPLE_RATE / sr)))
        count = max(count, clip_len, whole)
    return indices, waveform_to_examples(wave, sr, num_examples=count)


def _clip_windows(examples: torch.Tensor, indices: np.ndarray, clip_len: int) -> torch.Tensor:
    """``[N, clip_len, 96, 64]``: ``clip_len`` consecutive examples centred on each frame's
    example where ``examples`` allows, shifted to stay inside it."""
    starts = np.clip(indices - clip_len // 2, 0, len(examples) - clip_len)
    return torch.stack([examples[int(s):int(s) + clip_len] for s in starts]).float()


def frame_audio_examples(audio: AudioLike,
                         frame_times: Sequence[float],
                         sample_rate: Optional[int] = None) -> torch.Tensor:
    """Log-mel example of every frame, ``[N, 96, 64]`` float32.

    Args:
        audio: A sound file path (read with :func:`mmavs.audio.load_audio`), a waveform
            (numpy / torch ``[T]`` or ``[T, C]``, float in [-1, 1] or integer PCM) with
            ``sample_rate``, or None (silence).
        frame_times (sequence of float): Time of each frame in seconds.
        sample_rate (int, optional): Sample rate of a waveform (Hz).

    Returns:
        Tensor: ``[N, 96, 64]``: frame ``i`` gets example ``floor(t_i)`` of the clip, padded by
        :func:`mmavs.audio.waveform_to_examples` when the clip is shorter.
    """
    indices, examples = _featurise(audio, frame_times, sample_rate)
    return examples[torch.from_numpy(indices)].float()


def frame_clip_examples(audio: AudioLike,
                        frame_times: Sequence[float],
                        sample_rate: Optional[int] = None,
                        clip_len: int = CLIP_EXAMPLES) -> torch.Tensor:
    """Clip-level audio of every frame, ``[N, clip_len, 96, 64]`` float32.

    The clip of frame ``i`` is ``clip_len`` consecutive examples around its own example
    ``floor(t_i)``: centred where the audio allows, shifted to stay inside it, so a 5 s
    AVSBench clip gives every frame the whole clip (what ``LoadAVSAudio(with_clip=True)`` gives
    in training and testing). Audio shorter than ``clip_len`` seconds is padded by
    :func:`mmavs.audio.waveform_to_examples`. Arguments as :func:`frame_audio_examples`.
    """
    if clip_len < 1:
        raise ValueError(f'clip_len must be >= 1, found {clip_len}')
    indices, examples = _featurise(audio, frame_times, sample_rate, clip_len)
    return _clip_windows(examples, indices, clip_len)


# ---------------------------------------------------------------------------- inference
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


def inference_avs(model: torch.nn.Module,
                  frames: Sequence[FrameLike],
                  audio: AudioLike = None,
                  sample_rate: Optional[int] = None,
                  frame_times: Optional[Sequence[float]] = None,
                  batch_size: int = 8) -> List[SegDataSample]:
    """Segment the sounding objects of frames given their audio.

    Args:
        model (nn.Module): An AV segmentor from :func:`init_avs_model` (needs ``model.cfg``).
        frames (sequence): BGR uint8 ``[H, W, 3]`` arrays or image paths; sizes may differ.
        audio: Sound file path, waveform (with ``sample_rate``), or None for silence.
        sample_rate (int, optional): Sample rate of a waveform (Hz).
        frame_times (sequence of float, optional): Time of each frame (s); default ``0, 1, 2,
            ...`` (one frame per second).
        batch_size (int): Frames per forward pass (consecutive frames of one size are
            batched). Defaults to 8.

    Returns:
        list[SegDataSample]: One per frame (on the CPU), with ``seg_logits`` (``[1, H, W]`` raw
        logits), ``pred_sem_seg`` (long ``[1, H, W]``, gated when ``model.gate_thr`` is set) and
        ``pred_similarity`` (with a similarity head) at the frame's original size; metainfo
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
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError('the model has no .cfg; build it with mmavs.apis.init_avs_model')
    pipeline = build_inference_pipeline(cfg)
    # the audio is read and featurised once, for the frames' examples and their clips
    clip_len = CLIP_EXAMPLES if getattr(model, 'needs_audio_clip', False) else None
    indices, featurised = _featurise(audio, times, sample_rate, clip_len)
    examples = featurised[torch.from_numpy(indices)].float()
    clips = _clip_windows(featurised, indices, clip_len) if clip_len else None
    results: List[SegDataSample] = []
    model.eval()

    def run(batch: List[dict], first: int) -> None:
        with torch.no_grad():
            outputs = model.test_step(pseudo_collate(batch))
        for j, out in enumerate(outputs):
            i = first + j
            out.set_metainfo(dict(frame_time=times[i], audio_example=int(indices[i])))
            results.append(out.cpu())

    # Consecutive frames of one (resized) size are batched: the data preprocessor stacks them.
    batch, first = [], 0
    for i, frame in enumerate(frames):
        sample = dict(img=_as_frame(frame), audio=examples[i].clone(), frame_idx=i,
                      condition='positive', is_sounding=1)
        if clips is not None:
            sample['audio_clip'] = clips[i].clone()
        packed = pipeline(sample)
        if batch and (len(batch) == batch_size or
                      packed['inputs']['img'].shape != batch[0]['inputs']['img'].shape):
            run(batch, first)
            batch, first = [], i
        batch.append(packed)
    run(batch, first)
    return results


def is_silent(waveform: np.ndarray, threshold_dbfs: float = -90.0) -> bool:
    """Whether a waveform's RMS is below ``threshold_dbfs`` (dB FS, 0 dB = RMS 1); empty: True."""
    wave = np.asarray(waveform)
    return wave.size == 0 or rms_dbfs(wave) <= threshold_dbfs
