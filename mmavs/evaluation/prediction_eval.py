# Copyright (c) mmavs contributors. All rights reserved.
"""Score any model's AVSBench-Robust predictions, read from PNG folders, with ``RobustAVSMetric``.

A model of another codebase is run once per audio condition (its test script pointed at the
exported negative audio, ``tools/dataset_converters/export_robust_audio.py``) and saves one PNG
per test frame (:mod:`.prediction_io`). :func:`evaluate_predictions` checks that every frame of
the split is there, then streams the PNGs condition by condition, in the dataset's frame order:
``batch_size`` frames are decoded, counted with
:func:`frame_histogram` and :func:`~mmavs.evaluation.functional.histogram_statistics`
(exactly the statistics ``RobustAVSMetric`` computes from the probability maps ``v / 255`` or
``v / 65535``, see :func:`~mmavs.evaluation.functional.quantized_statistics`) and stored
in a ``RobustAVSMetric`` (:meth:`~mmavs.evaluation.RobustAVSMetric.add_statistics`), whose
reduction gives the table of ``tools/test.py``. Memory is one map, a batch of histograms and the
metric's ~2 KB per frame.

Ground truth: the positive condition reads the split's masks as
:func:`mmavs.datasets.transforms.loading.read_binary_mask` does (what ``LoadAVSMask`` reads); every
negative frame's ground truth is empty, of the mask's size. A missing frame is an error, or, with
``allow_missing``, a failure of the model: its prediction is the complement of the ground truth
(IoU 0 and F 0 for a positive frame with foreground; the whole frame, FPR 1 and a false alarm,
under a negative condition).
"""
import functools
import json
import os
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmseg.registry import DATASETS
from PIL import Image

from ..datasets.robust.manifest import SUBSET_DATASETS
from ..datasets.transforms.loading import read_binary_mask
from ..utils.constants import CONDITIONS, POSITIVE_CONDITION
from ..utils.formatting import json_safe
from .functional import code_bins, histogram_statistics, num_bins
from .metrics import RobustAVSMetric
from .prediction_io import PredictionLayout, read_prediction
from .report import format_markdown, format_table

#: Missing paths listed per condition in the error.
MAX_LISTED = 20
JSON_NAME = 'robust_metrics.json'
MARKDOWN_NAME = 'robust_metrics.md'


class MissingPredictionsError(FileNotFoundError):
    """Expected prediction PNGs are missing (the message lists them per condition)."""


@dataclass(frozen=True)
class FrameRef:
    """One test frame: where its prediction goes and its ground-truth mask."""
    split: str
    category: Optional[str]
    video_id: str
    frame_idx: int
    gt_path: str


def list_frames(data_root: str, subset: str, split: str = 'test') -> List[FrameRef]:
    """The frames of a split in the order the mmavs datasets (and so ``tools/test.py``) give
    them: videos in CSV order, frames 0..4.

    Raises:
        FileNotFoundError: the data root lacks the CSV or files of the split (all listed).
    """
    if subset not in SUBSET_DATASETS:
        raise ValueError(f'expected subset in {tuple(SUBSET_DATASETS)}, found {subset!r}')
    dataset = DATASETS.build(
        dict(
            type=SUBSET_DATASETS[subset],
            data_root=data_root,
            split=split,
            pipeline=[],
            test_mode=True,
            serialize_data=False))
    return [
        FrameRef(info['split'], info.get('category'), info['video_id'], int(info['frame_idx']),
                 info['seg_map_path']) for info in dataset.data_list
    ]


def _alternative_layouts(layout: PredictionLayout) -> List[Tuple[str, PredictionLayout]]:
    options = []
    for split_folder in (True, False):
        for first_index in (1, 0):
            other = PredictionLayout(layout.subset, split_folder, first_index)
            if other != layout:
                flags = []
                if not split_folder:
                    flags.append('--no-split-folder')
                if first_index == 0:
                    flags.append('--first-index 0')
                options.append((' '.join(flags) or 'the default layout', other))
    return options


def find_missing(folders: Mapping[str, str], frames: Sequence[FrameRef],
                 layout: PredictionLayout) -> Dict[str, List[str]]:
    """Condition -> expected prediction paths that do not exist."""
    missing = OrderedDict()
    for condition, folder in folders.items():
        absent = [p for p in iter_frame_paths(folder, frames, layout) if not osp.isfile(p)]
        if absent:
            missing[condition] = absent
    return missing


def missing_message(missing: Mapping[str, List[str]], folders: Mapping[str, str],
                    frames: Sequence[FrameRef], layout: PredictionLayout) -> str:
    """The error of :func:`evaluate_predictions` for missing PNGs, with a layout hint."""
    total = len(frames)
    lines = [
        f'{sum(len(v) for v in missing.values())} expected prediction PNG(s) are missing '
        f'(layout {layout.relpath("<split>", "<category>", "<name>", 0)} etc.):'
    ]
    for condition, paths in missing.items():
        lines.append(f'  {condition}: {len(paths)} of {total} missing in {folders[condition]}')
        lines += [f'    {p}' for p in paths[:MAX_LISTED]]
        if len(paths) > MAX_LISTED:
            lines.append(f'    ... and {len(paths) - MAX_LISTED} more')
        if len(paths) == total:  # another layout? (every frame of the first video there)
            video = [f for f in frames if f.video_id == frames[0].video_id]
            for flags, other in _alternative_layouts(layout):
                found = list(iter_frame_paths(folders[condition], video, other))
                if all(osp.isfile(p) for p in found):
                    lines.append(f'    (found {found[0]} etc.: the folder is laid out for '
                                 f'{flags})')
                    break
    lines.append('Pass --allow-missing to count each missing frame as a failure of the model.')
    return '\n'.join(lines)


def frame_histogram(codes: np.ndarray,
                    max_code: int,
                    gt: Optional[np.ndarray],
                    num_thresholds: int = 255) -> Tuple[np.ndarray, str]:
    """Histogram of one frame's PNG codes, by ground truth (``cv2.calcHist``, the fast part).

    Args:
        codes (np.ndarray): ``[H, W]`` uint8 (``max_code <= 255``) or uint16 codes.
        max_code (int): Code of probability 1.
        gt (np.ndarray, optional): ``[H, W]`` uint8 0/1 ground truth; None: all empty.
        num_thresholds (int): F-score thresholds.

    Returns:
        tuple[np.ndarray, str]: ``([2, 256] counts, 'code')`` of the codes for 8-bit maps, or
        ``([2, num_bins] counts, 'bin')`` of the codes' bins for 16-bit maps
        (:func:`~mmavs.evaluation.functional.code_bins`); float32 counts (exact below 2 ** 24
        pixels).
    """
    if codes.dtype == np.uint8:
        lanes = _lanes(codes.shape)
        if gt is None:
            hist = np.zeros((2, 256), np.float32)
            hist[0] = cv2.calcHist([codes, lanes], [0, 1], None, [256, LANES],
                                   [0, 256, 0, LANES]).sum(1)
        else:  # (code, gt, lane) of the three 8-bit images
            hist = cv2.calcHist([codes, gt, lanes], [0, 1, 2], None, [256, 2, LANES],
                                [0, 256, 0, 2, 0, LANES]).sum(2).T
        return hist, 'code'
    width = num_bins(num_thresholds)
    values = _numpy_code_bins(max_code, num_thresholds)[codes]
    if gt is None:
        hist = np.zeros((2, width), np.float32)
        hist[0] = cv2.calcHist([values], [0], None, [width], [0, width])[:, 0]
        return hist, 'bin'
    values += gt.astype(np.uint16) * np.uint16(width)  # (bin, gt) as one 16-bit value
    hist = cv2.calcHist([values], [0], None, [2 * width], [0, 2 * width])[:, 0]
    return hist.reshape(2, width), 'bin'


#: Neighbouring pixels are counted in different sub-histograms ("lanes", summed afterwards):
#: a map that is mostly one value (a prediction's background) otherwise makes every count wait
#: for the previous one; with 4 lanes ``cv2.calcHist`` runs 2-3x faster on such maps.
LANES = 4


@functools.lru_cache(maxsize=8)
def _lanes(shape: Tuple[int, int]) -> np.ndarray:
    """uint8 ``[H, W]``: the column index modulo :data:`LANES`."""
    row = (np.arange(shape[1]) % LANES).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(row, shape))


@functools.lru_cache(maxsize=4)
def _numpy_code_bins(max_code: int, num_thresholds: int) -> np.ndarray:
    return code_bins(max_code, num_thresholds).numpy().astype(np.uint16)


class _ConditionScorer:
    """Counts the frames of one condition and stores them, ``batch_size`` at a time.

    Only the per-frame histograms of a batch are kept (``[2, 256]`` or ``[2, T + 3]``), not
    the maps.
    """

    def __init__(self, metric: RobustAVSMetric, condition: str, threshold: Optional[float],
                 batch_size: int, num_thresholds: int) -> None:
        self.metric, self.condition = metric, condition
        self.threshold, self.batch_size = threshold, batch_size
        self.num_thresholds = num_thresholds
        self.hists: List[np.ndarray] = []
        self.key = None
        self.frames = self.missing = 0
        self.graded = False  # some PNG value strictly between 0 and the maximum
        self.max_value = 0

    def add(self,
            codes: np.ndarray,
            max_code: int,
            gt: Optional[np.ndarray],
            from_png: bool = True) -> None:
        if self.threshold is not None:
            codes = (codes > self.threshold * max_code).astype(np.uint8)
            max_code = 1
        hist, kind = frame_histogram(codes, max_code, gt, self.num_thresholds)
        if from_png and self.threshold is None:
            self._look_at(codes, max_code, hist, kind)
        key = (kind, max_code)
        if self.key is not None and (key != self.key or len(self.hists) == self.batch_size):
            self.flush()
        self.key = key
        self.hists.append(hist)
        self.frames += 1

    def _look_at(self, codes: np.ndarray, max_code: int, hist: np.ndarray, kind: str) -> None:
        """Track the largest PNG value and whether any lies strictly inside (0, max)."""
        if kind == 'code':
            counts = hist.sum(0)
            nonzero = np.flatnonzero(counts)
            high = int(nonzero[-1]) if nonzero.size else 0
            graded = bool(counts[1:max_code].any())
        else:
            high = int(codes.max())
            graded = bool(((codes > 0) & (codes < max_code)).any())
        self.max_value = max(self.max_value, high)
        self.graded = self.graded or graded

    def flush(self) -> None:
        if not self.hists:
            return
        kind, max_code = self.key
        hist = torch.from_numpy(np.stack(self.hists).astype(np.int64))
        if kind == 'code':  # [n, 2, 256] codes -> [n, 2, num_bins] bins
            lut = code_bins(max_code, self.num_thresholds).long()
            bins = hist.new_zeros(hist.shape[0], 2, num_bins(self.num_thresholds))
            hist = bins.index_add_(2, lut, hist[..., :max_code + 1])
        stats = histogram_statistics(hist, self.num_thresholds)
        self.metric.add_statistics(stats, [self.condition] * len(self.hists))
        self.hists, self.key = [], None

    def notes(self, max_code_seen: int) -> List[str]:
        """Remarks on what the PNGs of this condition looked like."""
        notes = []
        if self.threshold is None and self.max_value == 1 and max_code_seen > 1:
            notes.append(f'{self.condition}: every prediction holds only the values 0 and 1 '
                         f'(out of {max_code_seen}): 0/1 masks? Read them with --threshold 0')
        elif self.threshold is not None or not self.graded:
            notes.append(f'{self.condition}: binary masks, so F is the F-score of that one mask '
                         f'(a lower bound of the F of the probability maps)')
        return notes


def _progress(iterable, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm import tqdm
    return tqdm(iterable, total=total, desc=desc, unit='frame', leave=False)


def evaluate_predictions(data_root: str,
                         subset: str,
                         predictions: Mapping[str, str],
                         split: str = 'test',
                         layout: Optional[PredictionLayout] = None,
                         **kwargs) -> dict:
    """Score prediction folders, one per condition, with ``RobustAVSMetric``.

    Args:
        data_root (str): AVSBench (or SynthAVS) root with the split's masks.
        subset (str): ``'s4'`` or ``'ms3'``.
        predictions (Mapping[str, str]): Condition (``positive``, ``silence``, ``noise``,
            ``offscreen``, ``unseen``) -> prediction folder.
        split (str): The evaluated split. Default ``'test'``.
        layout (PredictionLayout, optional): File naming; default ``PredictionLayout(subset)``.
        **kwargs: ``threshold``, ``allow_missing``, ``batch_size``, ``num_thresholds``,
            ``beta2``, ``progress`` of :func:`score_prediction_folders`.

    Returns:
        dict: see :func:`score_prediction_folders`, with ``subset`` and ``split``.
    """
    layout = layout or PredictionLayout(subset)
    if layout.subset != subset:
        raise ValueError(f'expected a layout of subset {subset!r}, found {layout.subset!r}')
    for condition, folder in predictions.items():
        if not osp.isdir(folder):
            raise FileNotFoundError(f'prediction folder of {condition!r} not found: {folder}')
    _check_conditions(predictions)
    result = score_prediction_folders(
        list_frames(data_root, subset, split), predictions, layout, **kwargs)
    result.update(subset=subset, split=split)
    return result


def _check_conditions(predictions: Mapping[str, str]) -> None:
    unknown = [c for c in predictions if c not in CONDITIONS]
    if unknown or not predictions:
        raise ValueError(f'expected prediction folders named by conditions {CONDITIONS}, found '
                         f'{list(predictions)}')


def score_prediction_folders(frames: Sequence[FrameRef],
                             predictions: Mapping[str, str],
                             layout: PredictionLayout,
                             threshold: Optional[float] = None,
                             allow_missing: bool = False,
                             batch_size: int = 16,
                             num_thresholds: int = 255,
                             beta2: float = 0.3,
                             progress: bool = True) -> dict:
    """Score the prediction folders of the frames ``frames`` (see the module docstring).

    Args:
        frames (Sequence[FrameRef]): The split's frames, in the dataset's order
            (:func:`list_frames`).
        predictions (Mapping[str, str]): Condition -> prediction folder.
        layout (PredictionLayout): File naming in the folders.
        threshold (float, optional): Binarise every map first: a pixel is sounding when
            ``v / max > threshold`` (``0`` for 0/1 masks). None (default) reads probability maps.
        allow_missing (bool): Count a missing frame as a failure instead of raising.
        batch_size (int): Frames counted together. Default 16.
        num_thresholds (int): F-score thresholds. Default 255.
        beta2 (float): F-score beta squared. Default 0.3.
        progress (bool): Show a progress bar (stderr). Default True.

    Returns:
        dict: ``robust_metrics.json`` of ``tools/test.py`` (``no_gate`` report keyed by condition,
        ``metrics``: the flat ``positive/mIoU``, ``silence/FPR``, ``G-FPR`` ... dict, ``gate_thr``
        None) plus ``predictions`` (per condition: folder, frames, missing), ``threshold``,
        ``layout`` and ``notes``.

    Raises:
        MissingPredictionsError: PNGs are missing (without ``allow_missing``).
        ValueError: a PNG has another size than its frame, is not greyscale, or is not 8/16-bit
            (the message names the file); unknown condition names.
    """
    _check_conditions(predictions)
    if threshold is not None and not 0 <= threshold < 1:
        raise ValueError(f'expected threshold in [0, 1) or None, found {threshold}')
    if batch_size < 1:
        raise ValueError(f'expected batch_size >= 1, found {batch_size}')
    # the positive condition first: its masks give every frame's size to the negatives
    folders = OrderedDict(sorted(predictions.items(), key=lambda kv: CONDITIONS.index(kv[0])))
    missing = find_missing(folders, frames, layout)
    if missing and not allow_missing:
        raise MissingPredictionsError(missing_message(missing, folders, frames, layout))
    metric = RobustAVSMetric(gate_thr=None, beta2=beta2, num_thresholds=num_thresholds)
    shapes: Dict[str, Tuple[int, int]] = {}
    info, notes = OrderedDict(), []
    for condition, folder in folders.items():
        scorer = _ConditionScorer(metric, condition, threshold, batch_size, num_thresholds)
        absent = set(missing.get(condition, ()))
        max_code_seen = 0
        paths = iter_frame_paths(folder, frames, layout)
        for f, path in _progress(zip(frames, paths), len(frames), condition, progress):
            gt = read_binary_mask(f.gt_path) if condition == POSITIVE_CONDITION else None
            if gt is not None:
                shapes[f.gt_path] = gt.shape
            elif f.gt_path not in shapes:
                with Image.open(f.gt_path) as im:
                    shapes[f.gt_path] = (im.height, im.width)
            shape = shapes[f.gt_path]
            if path in absent:  # a failure: the complement of the ground truth
                scorer.missing += 1
                failure = np.ones(shape, np.uint8) if gt is None else 1 - gt
                scorer.add(failure, 1, gt, from_png=False)
                continue
            codes, max_code = read_prediction(path, shape)
            max_code_seen = max(max_code_seen, max_code)
            scorer.add(codes, max_code, gt)
        scorer.flush()
        notes += scorer.notes(max_code_seen)
        info[condition] = dict(folder=folder, frames=scorer.frames, missing=scorer.missing)
    result = metric.compute_report(metric.results)
    result.update(
        threshold=threshold,
        layout=dict(split_folder=layout.split_folder, first_index=layout.first_index),
        predictions=info,
        missing_counted_as_failures=bool(missing),
        notes=notes)
    return result


def _missing_line(result: dict) -> Optional[str]:
    counts = {c: v['missing'] for c, v in result['predictions'].items() if v['missing']}
    if not counts:
        return None
    listed = ', '.join(f'{c} {n} of {result["predictions"][c]["frames"]}'
                       for c, n in counts.items())
    return (f'Missing frames counted as failures of the model (prediction = complement of the '
            f'ground truth): {listed}.')


def format_result(result: dict, markdown: bool = False) -> str:
    """The table of :func:`evaluate_predictions` (text or Markdown) with its notes."""
    where = ' '.join(
        str(result[k]).upper() if k == 'subset' else str(result[k]) for k in ('subset', 'split')
        if result.get(k))
    title = f'AVSBench-Robust {where}, prediction folders'.replace('  ', ' ')
    if markdown:
        lines = [f'# {title}', '', format_markdown(result['no_gate'])]
    else:
        lines = [format_table(result['no_gate'], title=title)]
    extra = [_missing_line(result)] + list(result['notes'])
    lines += [('- ' if markdown else '') + line for line in extra if line]
    return '\n'.join(lines) + '\n'


def write_result(result: dict, out_dir: str) -> Tuple[str, str]:
    """Write ``robust_metrics.json`` (the format of ``tools/test.py``) and
    ``robust_metrics.md`` into ``out_dir``; returns both paths."""
    os.makedirs(out_dir, exist_ok=True)
    json_path, md_path = osp.join(out_dir, JSON_NAME), osp.join(out_dir, MARKDOWN_NAME)
    with open(json_path, 'w') as f:
        json.dump(json_safe(result), f, indent=2)
    with open(md_path, 'w') as f:
        f.write(format_result(result, markdown=True))
    return json_path, md_path


def iter_frame_paths(folder: str, frames: Sequence[FrameRef],
                     layout: PredictionLayout) -> Iterator[str]:
    """Every expected prediction path of one condition folder, in frame order."""
    for f in frames:
        yield osp.join(folder, layout.relpath(f.split, f.category, f.video_id, f.frame_idx))
