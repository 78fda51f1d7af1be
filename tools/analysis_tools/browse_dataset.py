# Copyright (c) mmavs contributors. All rights reserved.
"""Look at what a dataset of a config feeds the model: frame + mask, log-mel, waveform, labels.

Examples::

    python tools/analysis_tools/browse_dataset.py \
        configs/tpavi/tpavi-robust_mit-tiny_1xb16-60e_synthavs-robust-s4-112x112.py \
        --output-dir browse --not-show --max-samples 20
    python tools/analysis_tools/browse_dataset.py CONFIG --split test --conditions silence noise

MMSeg's flags (``--output-dir``, ``--not-show``, ``--show-interval``, ``--cfg-options``) plus
``--split train|val|test`` (the config's ``<split>_dataloader.dataset``, robust wrappers
included), ``--max-samples`` and ``--conditions``. Each sample goes through the dataset's own
pipeline (the training one with its augmentations for ``train``) and is drawn as one picture,
``<output-dir>/<condition>/<video_id>_<frame_idx>.png``:

* left: the frame as the model receives it, the ground-truth mask as a green fill and contour;
* right: the log-mel the frame hears (its own second; the whole clip for clip-level pipelines,
  the frame's second framed) above the waveform of the audio (a negative's silence, noise,
  off-screen or unseen recording as ``AddNegativeAudio`` makes it);
* header: video, frame, category, audio condition, ``is_sounding`` and the mask's area.
"""
import argparse
import copy
import os
import os.path as osp
import sys
from typing import Iterable, List, Optional

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmavs  # noqa: F401  (environment fixes + registration; before mmengine builds anything)
from mmavs.audio import load_audio
from mmavs.datasets.transforms.negative_audio import AddNegativeAudio
from mmavs.engine.hooks.av_seg_visualization_hook import sample_file_name
from mmavs.visualization.overlays import (GT_COLOR, HEADER_FG, draw_mask, enlarge, header, hstack,
                                          label_panel, log_mel_image, waveform_image)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Browse an audio-visual dataset of a config')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--split', choices=['train', 'val', 'test'], default='train', help='dataset to browse')
    parser.add_argument('--output-dir', default=None, help='folder for the pictures')
    parser.add_argument('--not-show', action='store_true', help='do not open a window')
    parser.add_argument(
        '--show-interval', type=float, default=2, help='seconds each shown picture stays')
    parser.add_argument('--max-samples', type=int, default=None, help='stop after N samples')
    parser.add_argument('--conditions', nargs='+', default=None, help='only these audio conditions')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    args = parser.parse_args(argv)
    if args.not_show and not args.output_dir:
        parser.error('--not-show without --output-dir would draw nothing visible')
    return args


def _inner_datasets(dataset) -> Iterable:
    while dataset is not None:
        yield dataset
        dataset = getattr(dataset, 'dataset', None)


def negative_transform(dataset) -> AddNegativeAudio:
    """The ``AddNegativeAudio`` of the (wrapped) dataset's pipeline, or a default one."""
    for inner in _inner_datasets(dataset):
        for transform in getattr(getattr(inner, 'pipeline', None), 'transforms', []):
            if isinstance(transform, AddNegativeAudio):
                return transform
    return AddNegativeAudio()


def sample_waveform(dataset, info: dict) -> Optional[np.ndarray]:
    """The 16 kHz waveform a sample hears: its own audio file, or its negative audio."""
    if info.get('condition', 'positive') != 'positive':
        results = negative_transform(dataset).transform(copy.deepcopy(info))
        return np.asarray(results['audio_waveform'], np.float32)
    path = info.get('audio_path')
    if path and osp.isfile(path):
        return load_audio(path)[0]
    return None


def draw_card(data: dict, info: dict, waveform: Optional[np.ndarray]) -> np.ndarray:
    """One sample as an RGB picture (see the module docstring)."""
    inputs, sample = data['inputs'], data['data_samples']
    frame = inputs['img'].numpy().transpose(1, 2, 0)[..., ::-1]  # BGR [3, H, W] -> RGB
    gt = sample.gt_sem_seg.data[0].numpy() if 'gt_sem_seg' in sample else None
    mask = None if gt is None else ((gt != 0) & (gt != 255)).astype(np.uint8)
    frame = enlarge(np.ascontiguousarray(frame), 256)
    left = label_panel(draw_mask(frame, mask, color=GT_COLOR), 'frame + ground-truth mask')
    height = frame.shape[0]
    clip = inputs.get('audio_clip')
    mel_src = (clip if clip is not None else inputs['audio']).numpy()
    mel_h = height // 2
    mel = log_mel_image(mel_src, mel_h, width=2 * height)
    frame_idx = int(sample.get('frame_idx') or 0)
    if clip is not None and len(mel_src) > 1:  # frame the second the frame hears
        step = mel.shape[1] / len(mel_src)
        x0 = int(round(frame_idx * step))
        cv2.rectangle(mel, (x0, 0), (int(round(x0 + step)) - 1, mel_h - 1), (255, 255, 255), 2)
    what = 'log-mel of the clip' if clip is not None else 'log-mel of the frame\'s second'
    right = [label_panel(mel, what + ' (time ->)')]
    wave_h = height - mel_h
    if waveform is not None:
        right.append(
            label_panel(
                waveform_image(waveform, 2 * height, wave_h - 22),
                f'waveform, {len(waveform) / 16000:.2f} s at 16 kHz'))
    right = np.concatenate(right, axis=0)
    body = hstack([left, right])
    sounding = int(sample.get('is_sounding', 1))
    area = 0.0 if mask is None else float(mask.mean())
    lines = [(f'{info.get("video_id", "?")} frame {frame_idx} | {info.get("category", "")}',
              HEADER_FG),
             (f'audio: {sample.get("condition", "positive")} | is_sounding={sounding} | '
              f'mask {100 * area:.1f}%', HEADER_FG)]
    return np.concatenate([header(body.shape[1], lines), body], axis=0)


def build_dataset(cfg: Config, split: str):
    loader = cfg.get(f'{split}_dataloader')
    if loader is None or loader.get('dataset') is None:
        raise ValueError(f'the config has no {split}_dataloader.dataset')
    return DATASETS.build(loader['dataset'])


def main(argv=None) -> List[str]:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        print(f'error: config file not found: {args.config}', file=sys.stderr)
        raise SystemExit(2)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    try:
        dataset = build_dataset(cfg, args.split)
        total = len(dataset)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(
            f'error: cannot build the {args.split} dataset of {args.config}: {exc}',
            file=sys.stderr)
        raise SystemExit(2) from exc
    written: List[str] = []
    shown = 0
    for index in range(total):
        if args.max_samples is not None and shown >= args.max_samples:
            break
        info = dataset.get_data_info(index)
        if args.conditions and info.get('condition', 'positive') not in args.conditions:
            continue
        data = dataset[index]
        card = draw_card(data, info, sample_waveform(dataset, info))
        shown += 1
        if args.output_dir:
            path = osp.join(args.output_dir, sample_file_name(data['data_samples']))
            if path in written:  # a training stream may draw a frame's negative twice
                path = path[:-4] + f'_{index}.png'
            os.makedirs(osp.dirname(path), exist_ok=True)
            cv2.imwrite(path, card[..., ::-1])
            written.append(path)
        if not args.not_show:
            cv2.imshow('browse_dataset', card[..., ::-1])
            cv2.waitKey(max(int(args.show_interval * 1000), 1))
    print(f'{shown} of {total} samples of the {args.split} dataset drawn' +
          (f' into {args.output_dir}' if args.output_dir else ''))
    return written


if __name__ == '__main__':
    main()
