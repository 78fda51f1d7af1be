# Copyright (c) mmavs contributors. All rights reserved.
"""Pure, vectorised AVS metrics: mIoU (M_J), F-score (M_F), FPR and frame false-alarm rate.

All metrics are built from *per-frame sufficient statistics* (:func:`frame_statistics`), reduced
over a whole dataset by :func:`reduce_statistics`. The functional metrics (:func:`jaccard`,
:func:`fscore`, :func:`false_positive_rate`, :func:`false_alarm_rate`) and the streaming
``RobustAVSMetric`` share this one implementation, so a metric computed frame by frame during a
test run equals the one computed on all frames at once, whatever the batch size.

Conventions (AVSBench, ``avs_scripts/avs_s4/utils/utility.py``; formulas in ``docs/metrics.md``):

* inputs are mask **logits** before the sigmoid, ``[N, H, W]``; the sigmoid is taken in float32;
* a pixel is predicted *sounding* when ``sigmoid(logit) > 0.5``;
* IoU per frame; a frame with an empty ground truth scores ``1 - predicted foreground fraction``;
* the F-score uses ``T = 255`` thresholds ``torch.linspace(0, 1 - 1e-10, T)`` (float32) on the
  sigmoid map, a pixel passes threshold ``t`` when ``prob >= t``; per frame precision, recall and
  ``F = (1 + beta2) P R / (beta2 P + R)`` (NaN -> 0, ``P = 0`` when nothing is predicted); frames
  with an empty ground truth are skipped; the F-curves are averaged over frames and the maximum over
  thresholds is reported (0 when no frame has foreground, as AVSBench's ``Eval_Fmeasure``).

The counts are computed without a loop over thresholds or frames: each pixel's probability is
binned among the sorted boundaries (the ``T`` thresholds and the 0.5 cut; the bin is the number
of boundaries it passes, found exactly by :class:`_ProbabilityBinner`); one ``bincount`` gives,
per frame, a histogram of all pixels and one of ground-truth pixels; a reverse cumulative sum
turns the histograms into the predicted-positive and true-positive counts at every boundary.
Frames are processed ``chunk_size`` at a time, so memory is ``O(chunk_size * H * W)`` for any
``N``. Maps stored as integers (8/16-bit PNGs, ``p = v / max``) skip the binning of every pixel:
each code is binned once (:func:`code_bins`), the pixels are counted per code and the counts go
through the same cumulative sums (:func:`quantized_statistics`, :func:`histogram_statistics`);
:func:`encode_probabilities` writes float maps as codes that keep every statistic. Everything
runs on the device of the logits. ``benchmarks/bench_metrics.py`` times it against the per-frame,
per-threshold loop of AVSBench.
"""
import functools
from typing import Dict, Optional

import torch
from torch import Tensor

#: The keys of the per-frame statistics, in a fixed order.
STAT_KEYS = ('intersection', 'union', 'pred_pos', 'gt_pos', 'num_pixels', 'tp_curve', 'pp_curve')

DEFAULT_NUM_THRESHOLDS = 255
DEFAULT_BETA2 = 0.3
DEFAULT_CHUNK_SIZE = 16
#: Quantised maps with fewer codes are counted by a histogram of the codes (8-bit PNGs); more
#: codes (16-bit) by looking up each pixel's bin.
CODE_HISTOGRAM_LIMIT = 4096


def f_thresholds(num_thresholds: int = DEFAULT_NUM_THRESHOLDS,
                 device: Optional[torch.device] = None) -> Tensor:
    """The F-score thresholds of AVSBench on the sigmoid map.

    Args:
        num_thresholds (int): Number of thresholds ``T``. Defaults to 255.
        device (torch.device, optional): Device of the result.

    Returns:
        Tensor: ``[T]`` float32, ``torch.linspace(0, 1 - 1e-10, T)`` (in float32 the last value is
        exactly 1.0, as in AVSBench).
    """
    if num_thresholds < 1:
        raise ValueError(f'expected num_thresholds >= 1, found {num_thresholds}')
    return torch.linspace(0, 1 - 1e-10, num_thresholds, dtype=torch.float32, device=device)


def _check_inputs(logits: Tensor, gt: Optional[Tensor]) -> None:
    if not isinstance(logits, Tensor) or logits.dim() != 3:
        shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f'expected logits of shape [N, H, W] (torch.Tensor), found {shape}')
    if gt is None:
        return
    if not isinstance(gt, Tensor) or tuple(gt.shape) != tuple(logits.shape):
        shape = tuple(gt.shape) if isinstance(gt, Tensor) else type(gt).__name__
        raise ValueError('expected ground truth of the logits\' shape '
                         f'{tuple(logits.shape)}, found {shape}')


def _binary_gt(gt: Tensor) -> Tensor:
    """``gt`` as a uint8 tensor of 0/1, checking that it only holds 0 and 1."""
    if gt.dtype == torch.bool:
        return gt.view(torch.uint8)
    if gt.numel():
        low, high = torch.aminmax(gt)
        if bool(low < 0) or bool(high > 1):
            raise ValueError('expected a binary ground truth (values 0/1), found values in '
                             f'[{low.item()}, {high.item()}]')
    return gt if gt.dtype == torch.uint8 else (gt > 0).view(torch.uint8)


def _check_not_nan(prob: Tensor) -> None:
    """Raise when the sigmoid map holds NaN (a sum of probabilities is NaN only then)."""
    if bool(torch.isnan(prob.sum())):
        raise ValueError('expected finite or infinite logits (or probabilities), found NaN')


class _ProbabilityBinner:
    """Exact ``torch.bucketize(prob, boundaries, right=True)`` for float32 probabilities, fast.

    For non-negative float32 numbers the order of the values is the order of their bit patterns
    read as int32. The non-negative bit patterns are split into cells of ``2 ** shift``
    consecutive floats; a table gives, per cell, the number of boundaries at or below the cell's
    first float, and the bit pattern of the (at most one) boundary strictly inside the cell. A
    pixel's bin is then two table look-ups and an integer comparison instead of a binary search
    (about twice as fast on CPU), and exact. NaN is mapped to 2.0, and every value above 1.0 to
    the extra bin ``B + 1``, which callers check. When a cell holds two inner boundaries
    (thousands of thresholds) the binner falls back to ``torch.bucketize``.

    Args:
        boundaries (Tensor): ``[B]`` sorted float32 values in ``[0, 1]``.
        shift (int): log2 of the cell size in floats. Defaults to 12 (2 ** 18 cells, 2 MB).
    """

    _NO_INNER = 2**31 - 1

    def __init__(self, boundaries: Tensor, shift: int = 12) -> None:
        device = boundaries.device
        self.boundaries = boundaries
        self.invalid_bin = boundaries.numel() + 1
        self.shift = shift
        bits = boundaries.view(torch.int32)
        num_cells = (int(torch.tensor(2.0).view(torch.int32)) >> shift) + 1
        starts = torch.arange(num_cells, dtype=torch.int32, device=device) << shift
        base = torch.bucketize(starts.view(torch.float32), boundaries, right=True, out_int32=True)
        base[starts.view(torch.float32) > 1.0] = self.invalid_bin
        inner = bits[(bits & ((1 << shift) - 1)) != 0]
        cells = inner >> shift
        self.exact = cells.unique().numel() == cells.numel()
        self.inner = torch.full((num_cells, ), self._NO_INNER, dtype=torch.int32, device=device)
        self.inner[cells.long()] = inner
        # Base + 1, so that adding ((bits - inner) >> 31), which is -1 or 0, gives the bin.
        self.base_plus_one = base + 1

    def __call__(self, prob: Tensor) -> Tensor:
        """Bins (int32, number of boundaries ``<= prob``) of float32 ``prob`` in [0, 1].

        ``prob`` is modified in place: NaN becomes 2.0, whose bin is ``B + 1``.
        """
        prob = torch.nan_to_num_(prob, nan=2.0)
        if not self.exact:
            bins = torch.bucketize(prob, self.boundaries, right=True, out_int32=True)
            return bins.masked_fill_(prob > 1, self.invalid_bin)
        bits = prob.contiguous().view(torch.int32)
        cells = (bits >> self.shift).flatten()
        bins = bits - self.inner.index_select(0, cells).view_as(bits)
        bins >>= 31  # -1 below the cell's inner boundary, 0 at or above it
        bins += self.base_plus_one.index_select(0, cells).view_as(bits)
        return bins


def histograms(values: Tensor, gt: Optional[Tensor], num_values: int) -> Tensor:
    """Per-frame histograms of integer values ``[n, P]`` (int32, modified in place) in
    ``[0, num_values)``, split by ground truth: ``[n, 2 (not gt / gt), num_values]`` int64.

    One ``bincount`` for all frames: value ``+ num_values * is_gt + 2 * num_values * frame``.
    """
    n = values.shape[0]
    if gt is not None:
        values.add_(_binary_gt(gt).flatten(1), alpha=num_values)
    values += (torch.arange(n, dtype=torch.int32, device=values.device) *
               (2 * num_values)).unsqueeze(1)
    hist = torch.bincount(values.flatten(), minlength=2 * n * num_values)
    return hist.view(n, 2, num_values)


class _FrameCounter:
    """Per-frame pixel counts at the F-score thresholds and at ``sigmoid > 0.5``.

    The boundaries are the ``T`` thresholds plus ``nextafter(0.5, 1)`` (``p > 0.5`` is
    ``p >= nextafter(0.5, 1)`` in float32), so one histogram per frame gives every count.
    """

    def __init__(self, num_thresholds: int, device: torch.device) -> None:
        thr = f_thresholds(num_thresholds, device=device)
        half = torch.nextafter(torch.tensor(0.5, device=device), torch.tensor(1.0, device=device))
        boundaries, order = torch.sort(torch.cat([thr, half.view(1)]), stable=True)
        position = torch.empty_like(order)
        position[order] = torch.arange(order.numel(), device=device)
        self.threshold_cols = position[:num_thresholds]
        self.half_col = int(position[num_thresholds])
        self.binner = _ProbabilityBinner(boundaries)
        self.num_bins = self.binner.invalid_bin + 1
        self._code_tables: dict = {}  # max_code or (kind, max_code) -> tables

    def __call__(self, prob: Tensor, gt: Optional[Tensor]) -> Dict[str, Tensor]:
        """Statistics of one chunk: probabilities ``[n, P]`` (float32, modified in place),
        gt ``[n, H, W]`` or None (empty)."""
        return self.count_bins(self.binner(prob), gt)

    def code_bins(self, max_code: int) -> Tensor:
        """Bin of every integer code ``v`` of a quantised map, ``p = float32(v) / max_code``.

        Returns:
            Tensor: ``[max_code + 1]`` int32, on the counter's device (computed once per
            ``max_code``).
        """
        if max_code not in self._code_tables:
            device = self.threshold_cols.device
            prob = torch.arange(max_code + 1, dtype=torch.float32, device=device) / max_code
            self._code_tables[max_code] = self.binner(prob)
        return self._code_tables[max_code]

    def code_ranges(self, max_code: int):
        """First and last code of every bin (``first > last`` for a bin without a code).

        Returns:
            tuple[Tensor, Tensor]: ``[num_bins]`` int64 each.
        """
        key = ('ranges', max_code)
        if key not in self._code_tables:
            lut = self.code_bins(max_code)
            every_bin = torch.arange(self.num_bins, dtype=torch.int32, device=lut.device)
            first = torch.searchsorted(lut, every_bin, right=False)
            last = torch.searchsorted(lut, every_bin, right=True) - 1
            self._code_tables[key] = (first, last)
        return self._code_tables[key]

    def count_bins(self, codes: Tensor, gt: Optional[Tensor]) -> Dict[str, Tensor]:
        """Statistics of one chunk from the pixels' bins ``[n, P]`` (int32, modified in
        place) and gt ``[n, H, W]`` or None (empty)."""
        return self.counts(histograms(codes, gt, self.num_bins))

    def counts(self, hist: Tensor) -> Dict[str, Tensor]:
        """Statistics from per-frame bin histograms ``[n, 2 (not gt / gt), num_bins]``."""
        if bool(hist[..., -1].any()):
            raise ValueError('expected finite or infinite logits (probabilities in [0, 1]), '
                             'found NaN (or a probability outside [0, 1])')
        hist = hist[..., :-1]
        # at_least[..., j] = pixels in bins >= j; passing boundary j means bin >= j + 1.
        cum = hist.cumsum(-1)
        at_least = cum[..., -1:] - cum + hist
        passed = at_least[..., 1:]  # [n, 2 (not gt / gt), B]
        passed_all = passed.sum(1)
        passed_gt = passed[:, 1]
        gt_pos = at_least[:, 1, 0]
        pred_pos = passed_all[:, self.half_col]
        intersection = passed_gt[:, self.half_col]
        return dict(
            intersection=intersection,
            union=pred_pos + gt_pos - intersection,
            pred_pos=pred_pos,
            gt_pos=gt_pos,
            num_pixels=at_least[:, :, 0].sum(1),
            tp_curve=passed_gt[:, self.threshold_cols],
            pp_curve=passed_all[:, self.threshold_cols])


def _count_masks(prob: Tensor, gt: Optional[Tensor]) -> Dict[str, Tensor]:
    """Mask statistics of one chunk (probabilities ``[n, P]``), without the F-score curves
    (``[n, 0]``)."""
    n = prob.shape[0]
    _check_not_nan(prob)
    pred = (prob > 0.5).view(torch.uint8)
    # uint8 sums accumulated in int32: exact, and much faster than counting bools on CPU.
    pred_pos = pred.sum(1, dtype=torch.int32).long()
    if gt is None:
        intersection = gt_pos = torch.zeros_like(pred_pos)
    else:
        g = _binary_gt(gt).flatten(1)
        intersection = (pred & g).sum(1, dtype=torch.int32).long()
        gt_pos = g.sum(1, dtype=torch.int32).long()
    no_curve = torch.zeros((n, 0), dtype=torch.long, device=pred.device)
    return dict(
        intersection=intersection,
        union=pred_pos + gt_pos - intersection,
        pred_pos=pred_pos,
        gt_pos=gt_pos,
        num_pixels=torch.full_like(pred_pos, pred.shape[1]),
        tp_curve=no_curve,
        pp_curve=no_curve)


@functools.lru_cache(maxsize=8)
def _frame_counter(num_thresholds: int, device: str) -> _FrameCounter:
    return _FrameCounter(num_thresholds, torch.device(device))


def frame_statistics(logits: Tensor,
                     gt: Optional[Tensor] = None,
                     num_thresholds: int = DEFAULT_NUM_THRESHOLDS,
                     chunk_size: int = DEFAULT_CHUNK_SIZE,
                     probabilities: bool = False) -> Dict[str, Tensor]:
    """Per-frame sufficient statistics of every AVS metric.

    Args:
        logits (Tensor): ``[N, H, W]`` mask logits (before the sigmoid), any float dtype (the
            sigmoid is taken in float32), any device; with ``probabilities=True``, the sigmoid
            map itself (values in [0, 1], as MMSeg's ``postprocess_result`` stores it in
            ``seg_logits`` for a single-channel head).
        gt (Tensor, optional): ``[N, H, W]`` binary ground truth (0/1 or bool). ``None`` means
            all-empty masks (a negative condition).
        num_thresholds (int): Number ``T`` of F-score thresholds. 0 skips the F-score curves
            (faster, for mIoU / FPR / false alarm only). Defaults to 255.
        chunk_size (int): Frames processed at once (bounds memory). Defaults to 16.
        probabilities (bool): ``logits`` holds probabilities. Defaults to False.

    Returns:
        dict[str, Tensor]: int64 tensors on the logits' device, counted in pixels:

        * ``intersection`` ``[N]``: predicted (``sigmoid > 0.5``) and ground-truth pixels;
        * ``union`` ``[N]``: predicted or ground-truth pixels;
        * ``pred_pos`` ``[N]``: predicted pixels;
        * ``gt_pos`` ``[N]``: ground-truth pixels;
        * ``num_pixels`` ``[N]``: ``H * W``;
        * ``tp_curve`` ``[N, T]``: ground-truth pixels with ``sigmoid >= threshold_i``;
        * ``pp_curve`` ``[N, T]``: pixels with ``sigmoid >= threshold_i``.
    """
    _check_inputs(logits, gt)
    if chunk_size < 1:
        raise ValueError(f'expected chunk_size >= 1, found {chunk_size}')
    if num_thresholds < 0:
        raise ValueError(f'expected num_thresholds >= 0, found {num_thresholds}')
    count = _count_masks if num_thresholds == 0 else _frame_counter(num_thresholds,
                                                                    str(logits.device))
    if gt is not None:
        gt = gt.to(logits.device)
    chunks = []
    for i in range(0, logits.shape[0], chunk_size):
        chunk = logits[i:i + chunk_size].flatten(1)
        if probabilities:  # a float32 copy: the counter works in place
            prob = chunk.to(torch.float32, copy=True)
            if prob.numel():
                low, high = torch.aminmax(prob)
                if not bool(low >= 0) or not bool(high <= 1):  # NaN fails both
                    raise ValueError(
                        'expected probabilities in [0, 1] (probabilities=True), found values in '
                        f'[{float(low)}, {float(high)}]; pass logits with probabilities=False')
        else:
            prob = chunk.float().sigmoid()
        chunks.append(count(prob, None if gt is None else gt[i:i + chunk_size]))
    if not chunks:
        return empty_statistics(num_thresholds, device=logits.device)
    return {k: torch.cat([c[k] for c in chunks]) for k in STAT_KEYS}


def code_bins(max_code: int,
              num_thresholds: int = DEFAULT_NUM_THRESHOLDS,
              device: Optional[torch.device] = None) -> Tensor:
    """Bin of every code ``v`` of a quantised probability map, ``p = float32(v) / max_code``.

    A pixel's bin is the number of the sorted boundaries (the ``T`` F-score thresholds and the
    0.5 cut) that its probability passes, ``0 .. T + 1``; :func:`histogram_statistics` turns
    per-frame histograms of bins into the statistics of :func:`frame_statistics`.

    Returns:
        Tensor: ``[max_code + 1]`` int32, non-decreasing (computed once per ``max_code``).
    """
    if not 1 <= max_code <= 2**16 - 1:
        raise ValueError(f'expected max_code in [1, 65535], found {max_code}')
    counter = _frame_counter(num_thresholds, str(torch.device(device or 'cpu')))
    return counter.code_bins(int(max_code))


def num_bins(num_thresholds: int = DEFAULT_NUM_THRESHOLDS) -> int:
    """Length ``T + 3`` of the bin histograms of :func:`histogram_statistics` (bins
    ``0 .. T + 1`` and one that no probability in [0, 1] reaches)."""
    return _frame_counter(num_thresholds, 'cpu').num_bins


def histogram_statistics(hist: Tensor,
                         num_thresholds: int = DEFAULT_NUM_THRESHOLDS) -> Dict[str, Tensor]:
    """:func:`frame_statistics` from per-frame histograms of the pixels' bins.

    Args:
        hist (Tensor): ``[N, 2, num_bins(T)]`` integer counts: row 0 the pixels outside the
            ground truth, row 1 those inside, by bin (:func:`code_bins`).
        num_thresholds (int): F-score thresholds ``T``. Defaults to 255.

    Returns:
        dict[str, Tensor]: as :func:`frame_statistics`.
    """
    counter = _frame_counter(num_thresholds, str(hist.device))
    if hist.dim() != 3 or tuple(hist.shape[1:]) != (2, counter.num_bins):
        raise ValueError(f'expected bin histograms [N, 2, {counter.num_bins}], found '
                         f'{tuple(hist.shape)}')
    return counter.counts(hist.long())


def quantized_statistics(codes: Tensor,
                         max_code: int,
                         gt: Optional[Tensor] = None,
                         num_thresholds: int = DEFAULT_NUM_THRESHOLDS) -> Dict[str, Tensor]:
    """:func:`frame_statistics` of probability maps stored as integers (8/16-bit PNGs).

    Pixel value ``v`` stands for the probability ``p = float32(v) / max_code``. The result is
    exactly ``frame_statistics(codes.float() / max_code, gt, num_thresholds,
    probabilities=True)``: each of the ``max_code + 1`` codes is binned once
    (:func:`code_bins`), so the pixels are only counted, not converted and binned.

    Args:
        codes (Tensor): ``[N, H, W]`` integer codes in ``[0, max_code]`` (uint8, int16, int32
            or int64; 16-bit PNG values as int32).
        max_code (int): The code of probability 1 (255 for 8-bit, 65535 for 16-bit maps).
        gt (Tensor, optional): ``[N, H, W]`` binary ground truth; None means all empty.
        num_thresholds (int): F-score thresholds ``T`` (>= 1). Defaults to 255.

    Returns:
        dict[str, Tensor]: as :func:`frame_statistics`.
    """
    _check_inputs(codes, gt)
    if codes.is_floating_point() or codes.dtype == torch.bool:
        raise ValueError(f'expected integer codes, found {codes.dtype}')
    if num_thresholds < 1:
        raise ValueError(f'expected num_thresholds >= 1, found {num_thresholds}')
    lut = code_bins(max_code, num_thresholds, codes.device)
    if codes.numel():
        low, high = torch.aminmax(codes)
        if int(low) < 0 or int(high) > max_code:
            raise ValueError(f'expected codes in [0, {max_code}], found values in '
                             f'[{int(low)}, {int(high)}]')
    if codes.shape[0] == 0:
        return empty_statistics(num_thresholds, device=codes.device)
    if gt is not None:
        gt = gt.to(codes.device)
    bins = num_bins(num_thresholds)
    if max_code < CODE_HISTOGRAM_LIMIT:  # a histogram of the codes, then of their bins
        hist = histograms(codes.flatten(1).to(torch.int32), gt, max_code + 1)
        hist = hist.new_zeros(hist.shape[0], 2, bins).index_add_(2, lut.long(), hist)
    else:  # the pixels' bins
        hist = histograms(lut[codes.flatten(1).long()], gt, bins)
    return histogram_statistics(hist, num_thresholds)


def encode_probabilities(prob: Tensor,
                         max_code: int = 2**16 - 1,
                         num_thresholds: int = DEFAULT_NUM_THRESHOLDS) -> Tensor:
    """Integer codes of probability maps that keep every statistic (for 16-bit PNGs).

    Each probability ``p`` becomes the code nearest to ``p * max_code`` among the codes in the
    same bin (the same side of every F-score threshold and of the 0.5 cut), so
    :func:`quantized_statistics` of the codes equals :func:`frame_statistics` of ``prob``
    exactly. A bin without a code is a single float32 value: with 255 thresholds and 16-bit codes
    only ``p`` exactly 0.5 (which passes the threshold ``t_127 = 0.5`` but is not predicted);
    such a pixel gets its nearest code (predicted).

    Args:
        prob (Tensor): Probabilities in [0, 1], any shape (float; computed in float32).
        max_code (int): Code of probability 1. Defaults to 65535 (16-bit).
        num_thresholds (int): F-score thresholds the codes must respect. Defaults to 255.

    Returns:
        Tensor: int64 codes in ``[0, max_code]``, the shape of ``prob``.
    """
    prob = prob.detach().to(torch.float32)
    if prob.numel():
        low, high = torch.aminmax(prob)
        if not bool(low >= 0) or not bool(high <= 1):
            raise ValueError(f'expected probabilities in [0, 1], found values in '
                             f'[{float(low)}, {float(high)}]')
    counter = _frame_counter(num_thresholds, str(prob.device))
    first, last = counter.code_ranges(int(max_code))
    bins = counter.binner(prob.clone().flatten()).long()
    first, last = first[bins], last[bins]
    nearest = torch.round(prob.flatten().double() * max_code).long()
    codes = torch.where(first <= last, torch.minimum(torch.maximum(nearest, first), last), nearest)
    return codes.view(prob.shape)


def empty_statistics(num_thresholds: int = DEFAULT_NUM_THRESHOLDS,
                     device: Optional[torch.device] = None) -> Dict[str, Tensor]:
    """Statistics of zero frames (``[0]`` and ``[0, T]`` int64 tensors)."""
    stats = {k: torch.zeros(0, dtype=torch.long, device=device) for k in STAT_KEYS[:5]}
    for k in STAT_KEYS[5:]:
        stats[k] = torch.zeros((0, num_thresholds), dtype=torch.long, device=device)
    return stats


def gate_statistics(stats: Dict[str, Tensor], keep: Tensor) -> Dict[str, Tensor]:
    """Statistics as if the binary prediction of the frames not kept were emptied.

    A gated frame predicts no pixel at any threshold: ``intersection = pred_pos = 0``,
    ``union = gt_pos``, ``tp_curve = pp_curve = 0`` (so its precision, and F, are 0 at every
    threshold; its FPR is 0 and it raises no false alarm).

    Args:
        stats (dict[str, Tensor]): Output of :func:`frame_statistics` for ``N`` frames.
        keep (Tensor): ``[N]`` bool, True where the prediction is kept.

    Returns:
        dict[str, Tensor]: New statistics, same shapes.
    """
    keep = torch.as_tensor(keep, dtype=torch.bool, device=stats['pred_pos'].device)
    if keep.shape != stats['pred_pos'].shape:
        raise ValueError(f'expected keep of shape {tuple(stats["pred_pos"].shape)}, '
                         f'found {tuple(keep.shape)}')
    zero = torch.zeros_like(stats['pred_pos'])
    curve_keep = keep.unsqueeze(1)
    return dict(
        intersection=torch.where(keep, stats['intersection'], zero),
        union=torch.where(keep, stats['union'], stats['gt_pos']),
        pred_pos=torch.where(keep, stats['pred_pos'], zero),
        gt_pos=stats['gt_pos'].clone(),
        num_pixels=stats['num_pixels'].clone(),
        tp_curve=stats['tp_curve'] * curve_keep,
        pp_curve=stats['pp_curve'] * curve_keep)


def frame_iou(stats: Dict[str, Tensor]) -> Tensor:
    """Per-frame IoU ``[N]`` (float64); empty-GT frames: ``1 - pred_pos / num_pixels``."""
    inter = stats['intersection'].double()
    union = stats['union'].double()
    empty_gt = stats['gt_pos'] == 0
    background = 1 - stats['pred_pos'].double() / stats['num_pixels'].double()
    return torch.where(empty_gt, background, inter / union.clamp(min=1))


def f_curve(stats: Dict[str, Tensor], beta2: float = DEFAULT_BETA2) -> Tensor:
    """Mean F-curve ``[T]`` (float64) over the frames with a non-empty ground truth.

    Zeros when no frame has foreground (AVSBench's ``Eval_Fmeasure`` convention).
    """
    valid = stats['gt_pos'] > 0
    tp = stats['tp_curve'][valid].double()
    pp = stats['pp_curve'][valid].double()
    if tp.shape[0] == 0:
        return torch.zeros(stats['tp_curve'].shape[1], dtype=torch.float64, device=tp.device)
    precision = tp / pp.clamp(min=1)  # pp == 0 implies tp == 0: precision 0
    recall = tp / stats['gt_pos'][valid].double().unsqueeze(1)
    denom = beta2 * precision + recall
    f = (1 + beta2) * precision * recall / denom.clamp(min=torch.finfo(torch.float64).tiny)
    f = torch.where(denom > 0, f, torch.zeros_like(f))
    return f.mean(0)


def reduce_statistics(stats: Dict[str, Tensor], beta2: float = DEFAULT_BETA2) -> Dict[str, float]:
    """Dataset-level metrics from per-frame statistics (every frame weighs the same).

    Args:
        stats (dict[str, Tensor]): Output of :func:`frame_statistics` (or concatenated ones).
        beta2 (float): The F-score's beta squared. Defaults to 0.3.

    Returns:
        dict[str, float]: ``mIoU`` (mean per-frame IoU, AVSBench convention for empty GT), ``F``
        (max of the mean F-curve over frames with foreground), ``FPR`` (mean fraction of pixels
        predicted sounding), ``false_alarm`` (fraction of frames with any predicted pixel),
        ``num_frames`` and ``num_gt_frames`` (frames with foreground). With zero frames every
        metric is NaN; F is NaN for statistics without curves (``num_thresholds=0``).
    """
    n = int(stats['pred_pos'].shape[0])
    num_gt = int((stats['gt_pos'] > 0).sum())
    if n == 0:
        nan = float('nan')
        return dict(mIoU=nan, F=nan, FPR=nan, false_alarm=nan, num_frames=0, num_gt_frames=0)
    fpr = stats['pred_pos'].double() / stats['num_pixels'].double()
    curve = f_curve(stats, beta2)
    return dict(
        mIoU=float(frame_iou(stats).mean()),
        F=float(curve.max()) if curve.numel() else float('nan'),
        FPR=float(fpr.mean()),
        false_alarm=float((stats['pred_pos'] > 0).double().mean()),
        num_frames=n,
        num_gt_frames=num_gt)


def jaccard(logits: Tensor, gt: Tensor, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """M_J: mean over frames of the IoU at ``sigmoid > 0.5``.

    Args:
        logits (Tensor): ``[N, H, W]`` mask logits.
        gt (Tensor): ``[N, H, W]`` binary ground truth.
        chunk_size (int): Frames processed at once. Defaults to 16.

    Returns:
        float: mIoU in [0, 1]; empty-GT frames score ``1 - predicted foreground fraction``.
    """
    stats = frame_statistics(logits, gt, num_thresholds=0, chunk_size=chunk_size)
    return reduce_statistics(stats)['mIoU']


def fscore(logits: Tensor,
           gt: Tensor,
           beta2: float = DEFAULT_BETA2,
           num_thresholds: int = DEFAULT_NUM_THRESHOLDS,
           chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """M_F: max over thresholds of the mean per-frame F-curve (AVSBench ``Eval_Fmeasure``).

    Args:
        logits (Tensor): ``[N, H, W]`` mask logits.
        gt (Tensor): ``[N, H, W]`` binary ground truth; empty frames are skipped.
        beta2 (float): Beta squared. Defaults to 0.3.
        num_thresholds (int): Thresholds ``linspace(0, 1 - 1e-10, T)``. Defaults to 255.
        chunk_size (int): Frames processed at once. Defaults to 16.

    Returns:
        float: F-score in [0, 1] (0 when no frame has foreground).
    """
    stats = frame_statistics(logits, gt, num_thresholds, chunk_size)
    return reduce_statistics(stats, beta2)['F']


def false_positive_rate(logits: Tensor, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """FPR: mean over frames of the fraction of pixels with ``sigmoid > 0.5``.

    Args:
        logits (Tensor): ``[N, H, W]`` mask logits (of a negative condition: every predicted pixel
            is a false positive).
        chunk_size (int): Frames processed at once. Defaults to 16.

    Returns:
        float: FPR in [0, 1].
    """
    stats = frame_statistics(logits, None, num_thresholds=0, chunk_size=chunk_size)
    return reduce_statistics(stats)['FPR']


def false_alarm_rate(logits: Tensor, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """Frame false-alarm rate: fraction of frames with at least one pixel ``sigmoid > 0.5``.

    Args:
        logits (Tensor): ``[N, H, W]`` mask logits.
        chunk_size (int): Frames processed at once. Defaults to 16.

    Returns:
        float: False-alarm rate in [0, 1].
    """
    stats = frame_statistics(logits, None, num_thresholds=0, chunk_size=chunk_size)
    return reduce_statistics(stats)['false_alarm']


def harmonic_mean(a: float, b: float) -> float:
    """``2ab / (a + b)``; 0 when ``a + b == 0``; NaN when either is NaN."""
    if a != a or b != b:
        return float('nan')
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def global_metrics(positive: Dict[str, float],
                   negatives: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    """The global robustness metrics (formulas of ``docs/metrics.md``).

    * ``G-FPR = mean_c FPR_c`` over the negative conditions ``c`` present;
    * ``G-false_alarm = mean_c false_alarm_c``;
    * ``G-mIoU = H(mIoU_pos, 1 - G-FPR)``, ``G-F = H(F_pos, 1 - G-FPR)``, ``H`` the harmonic mean.

    Args:
        positive (dict[str, float]): Metrics of the positive condition (``mIoU``, ``F``), or an
            empty dict when there is none (then G-mIoU and G-F are omitted).
        negatives (dict[str, dict[str, float]]): Condition name -> metrics (``FPR``,
            ``false_alarm``). Must not be empty.

    Returns:
        dict[str, float]: ``G-FPR``, ``G-false_alarm`` and, with a positive condition, ``G-mIoU``
        and ``G-F``.
    """
    if not negatives:
        raise ValueError('expected at least one negative condition, found none')
    g_fpr = sum(m['FPR'] for m in negatives.values()) / len(negatives)
    g_fa = sum(m['false_alarm'] for m in negatives.values()) / len(negatives)
    out = {'G-FPR': g_fpr, 'G-false_alarm': g_fa}
    if positive:
        out['G-mIoU'] = harmonic_mean(positive['mIoU'], 1 - g_fpr)
        out['G-F'] = harmonic_mean(positive['F'], 1 - g_fpr)
    return out
