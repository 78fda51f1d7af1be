# Copyright (c) mmavs contributors. All rights reserved.
"""VGGish log-mel examples: the one featurisation every waveform in mmavs goes through.

The algorithm is the published VGGish input pipeline (``vggish_input.waveform_to_examples`` and
``mel_features.py`` of the AudioSet release, also used by torchvggish and AVSBench):

1. mono waveform at 16 kHz (other rates are resampled with soxr, see :mod:`.loading`);
2. frames of 400 samples (25 ms) every 160 samples (10 ms), no padding:
   ``F = 1 + floor((T - 400) / 160)`` frames for ``T`` samples;
3. each frame times a *periodic* Hann window ``0.5 - 0.5 cos(2 pi n / 400)``, zero-padded to 512
   samples, real FFT, magnitude (not power): ``[F, 257]``;
4. times the ``[257, 64]`` mel matrix: triangular HTK-mel filters (``mel = 1127 ln(1 + f / 700)``)
   with 66 edges evenly spaced in mel between 125 Hz and 7500 Hz, evaluated at the 257 bin
   frequencies ``linspace(0, 8000, 257)``; the DC bin's row is set to zero (as HTK does);
5. ``log(mel + 0.01)`` (natural log);
6. non-overlapping examples of 96 frames (0.96 s): ``N = floor(F / 96)`` examples ``[N, 96, 64]``;
   trailing frames that do not fill an example are dropped.

Here it runs batched in torch, without a Python loop over frames, in blocks of about
:data:`BLOCK_FRAMES` frames per intra-op thread (a 5 s clip has 480 frames in its examples): a
block's intermediates (~5 KB a frame) stay in the CPU cache, and each torch call still gets enough
work to amortise its overhead and to split over the intra-op threads.

a. framing is a strided view (``Tensor.unfold``, ``[B, F, 400]``); one multiply by the window writes
   the block into the first 400 columns of a ``[n, 512]`` buffer whose last 112 columns stay zero
   (the zero padding, written once when the buffer is made);
b. ``torch.fft.rfft`` transforms all ``n`` frames of the block at once (float32 stays float32);
c. only the FFT bins with a non-zero mel weight are used (bins 5 to 239, 156-7469 Hz): they are
   squared in place, real and imaginary parts added, and square-rooted into a ``[n, 235]`` buffer;
d. the mel matrix is applied as 4 dense products, one per group of 16 bands, each over the bins
   its bands touch (3904 multiply-adds per frame instead of 235 x 64 = 15040; the skipped
   weights are exact zeros, so only the amount of work changes);
e. ``log(mel + 0.01)`` of the block is written into the output.

Only the frames that end up in an example are computed. The window and the grouped mel weights are
built once per (device, dtype) and cached; each thread keeps its block buffers (and their views) for
its next call with the same block layout. Measured speed: ``docs/audio.md``.
"""
import threading
from functools import lru_cache
from typing import Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from ..utils.constants import SAMPLE_RATE as VGGISH_SAMPLE_RATE  # Hz
from .loading import resample_waveform

STFT_WINDOW_LENGTH = 400  # samples (25 ms)
STFT_HOP_LENGTH = 160  # samples (10 ms)
FFT_LENGTH = 512  # samples
NUM_SPECTROGRAM_BINS = FFT_LENGTH // 2 + 1  # 257
NUM_MEL_BINS = 64
MEL_MIN_HZ = 125.0
MEL_MAX_HZ = 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96  # frames per example (0.96 s)
#: samples needed for one example: 95 hops + one window
EXAMPLE_SAMPLES = (EXAMPLE_FRAMES - 1) * STFT_HOP_LENGTH + STFT_WINDOW_LENGTH  # 15600
#: frames per vectorised block and per intra-op thread in :func:`log_mel_frames` (chosen by
#: measurement: docs/audio.md, Throughput)
BLOCK_FRAMES = 512
#: the mel product runs as this many dense products over groups of adjacent bands (chosen by
#: measurement, as BLOCK_FRAMES)
MEL_GROUPS = 4

_HTK_MEL_BREAK_HZ = 700.0
_HTK_MEL_Q = 1127.0

Waveform = Union[np.ndarray, torch.Tensor]

#: each thread's last :class:`_Workspace` (reused by the next call with the same block layout)
_THREAD_WORKSPACE = threading.local()


def hertz_to_htk_mel(frequencies_hz: np.ndarray) -> np.ndarray:
    """HTK mel scale: ``1127 * ln(1 + f / 700)``; ``f`` in Hz, result in mel."""
    frequencies_hz = np.asarray(frequencies_hz, dtype=np.float64)
    return _HTK_MEL_Q * np.log(1.0 + frequencies_hz / _HTK_MEL_BREAK_HZ)


def vggish_mel_matrix(num_mel_bins: int = NUM_MEL_BINS,
                      num_spectrogram_bins: int = NUM_SPECTROGRAM_BINS,
                      sample_rate: int = VGGISH_SAMPLE_RATE,
                      lower_edge_hz: float = MEL_MIN_HZ,
                      upper_edge_hz: float = MEL_MAX_HZ) -> np.ndarray:
    """The VGGish mel matrix, mapping magnitude-spectrum bins to mel bands.

    Band ``m`` is a triangle over the mel axis with edges ``e[m], e[m + 1], e[m + 2]``, where
    ``e = linspace(mel(lower_edge_hz), mel(upper_edge_hz), num_mel_bins + 2)``; it is evaluated at
    each spectrogram bin's frequency ``linspace(0, sample_rate / 2, num_spectrogram_bins)``
    (converted to mel). Weights are not area-normalised. The DC bin (row 0) is zero for every
    band, as in HTK.

    Args:
        num_mel_bins (int): Number of mel bands. Default 64.
        num_spectrogram_bins (int): Rows; ``fft_length // 2 + 1``. Default 257.
        sample_rate (int): Sample rate of the analysed signal in Hz. Default 16000.
        lower_edge_hz (float): Lower edge of the lowest band in Hz. Default 125.
        upper_edge_hz (float): Upper edge of the highest band in Hz. Default 7500.

    Returns:
        np.ndarray: float64 ``[num_spectrogram_bins, num_mel_bins]``.
    """
    nyquist_hz = sample_rate / 2.0
    if not 0.0 <= lower_edge_hz < upper_edge_hz <= nyquist_hz:
        raise ValueError(f'expected 0 <= lower_edge_hz < upper_edge_hz <= {nyquist_hz} Hz, found '
                         f'lower_edge_hz={lower_edge_hz}, upper_edge_hz={upper_edge_hz}')
    bins_mel = hertz_to_htk_mel(np.linspace(0.0, nyquist_hz, num_spectrogram_bins))[:, None]
    edges_mel = np.linspace(
        hertz_to_htk_mel(lower_edge_hz), hertz_to_htk_mel(upper_edge_hz), num_mel_bins + 2)
    lower, centre, upper = edges_mel[:-2], edges_mel[1:-1], edges_mel[2:]
    rising = (bins_mel - lower) / (centre - lower)
    falling = (upper - bins_mel) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0, :] = 0.0
    return weights


def periodic_hann(window_length: int = STFT_WINDOW_LENGTH) -> np.ndarray:
    """Periodic Hann window ``0.5 - 0.5 cos(2 pi n / L)``, ``n = 0..L-1`` (float64 ``[L]``)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi / window_length * np.arange(window_length))


#: one group of the mel product: bins ``[start, stop)`` of the ``[n, 235]`` magnitudes (counted from
#: the first mel-relevant bin), their ``[stop - start, c]`` weights, and the ``c`` bands they feed
MelGroup = Tuple[int, int, torch.Tensor, slice]


@lru_cache(maxsize=None)
def _mel_groups_np(num_groups: int = MEL_GROUPS) -> Tuple[int, int, Tuple[tuple, ...]]:
    """The mel matrix split into the grouped products of :func:`log_mel_frames` (float64 numpy).

    Returns ``(lo, hi, groups)``: rows ``[lo, hi)`` (bins 5..239) are the only ones with a
    non-zero weight; ``groups`` holds ``(start, stop, weights, bands)`` for ``num_groups`` runs of
    adjacent bands, where ``[start, stop)`` (relative to ``lo``) covers every bin with a non-zero
    weight in those bands and ``weights`` is the ``[stop - start, len(bands)]`` block of the
    matrix. Every weight outside the blocks is exactly zero.
    """
    weights = vggish_mel_matrix()
    rows = np.flatnonzero(weights.any(axis=1))
    lo, hi = int(rows[0]), int(rows[-1]) + 1
    weights = weights[lo:hi]
    groups = []
    for bands in np.array_split(np.arange(NUM_MEL_BINS), num_groups):
        used = np.flatnonzero(weights[:, bands].any(axis=1))
        start, stop = int(used[0]), int(used[-1]) + 1
        block = np.ascontiguousarray(weights[start:stop, bands])
        groups.append((start, stop, block, slice(int(bands[0]), int(bands[-1]) + 1)))
    return lo, hi, tuple(groups)


@lru_cache(maxsize=None)
def _torch_constants(device: torch.device,
                     dtype: torch.dtype) -> Tuple[torch.Tensor, Tuple[MelGroup, ...], int, int]:
    """Window ``[400]``, the grouped mel weights (see :func:`_mel_groups_np`) and ``lo, hi``.

    Cached per (device, dtype); the returned tensors must not be modified in place.
    """
    lo, hi, groups = _mel_groups_np(MEL_GROUPS)
    window = torch.as_tensor(periodic_hann(), dtype=dtype, device=device)
    mel_groups = tuple((start, stop, torch.as_tensor(block, dtype=dtype, device=device), bands)
                       for start, stop, block, bands in groups)
    return window, mel_groups, lo, hi


def num_examples_for(num_samples: int) -> int:
    """Number of whole 96-frame examples in ``num_samples`` samples at 16 kHz.

    ``F = 1 + floor((T - 400) / 160)`` frames (0 when ``T < 400``), ``N = floor(F / 96)``.
    A 5 s clip (80000 samples) has 498 frames and 5 examples.
    """
    if num_samples < STFT_WINDOW_LENGTH:
        return 0
    num_frames = 1 + (num_samples - STFT_WINDOW_LENGTH) // STFT_HOP_LENGTH
    return num_frames // EXAMPLE_FRAMES


def fit_num_examples(examples: torch.Tensor, num_examples: int) -> torch.Tensor:
    """Cut or pad ``[..., N, 96, 64]`` examples to exactly ``num_examples`` along ``N``.

    Missing examples repeat the last one (the AVSBench convention). ``N`` must be >= 1.

    Args:
        examples (torch.Tensor): ``[N, 96, 64]`` or ``[B, N, 96, 64]``.
        num_examples (int): Wanted ``N`` (>= 1).

    Returns:
        torch.Tensor: same rank as ``examples`` with ``N == num_examples``.
    """
    if num_examples < 1:
        raise ValueError(f'num_examples must be >= 1, got {num_examples}')
    count = examples.shape[-3]
    if count == 0:
        raise ValueError('cannot pad zero examples: there is no last example to repeat')
    if count >= num_examples:
        return examples[..., :num_examples, :, :]
    repeat_shape = list(examples.shape)
    repeat_shape[-3] = num_examples - count
    repeat = examples[..., -1:, :, :].expand(repeat_shape)
    return torch.cat([examples, repeat], dim=-3)


def _as_float_tensor(waveform: Waveform) -> torch.Tensor:
    """Numpy or torch -> floating torch tensor (float32/64 kept, half precisions -> float32)."""
    if isinstance(waveform, np.ndarray):
        if not np.issubdtype(waveform.dtype, np.floating):
            raise TypeError(f'expected a floating waveform with samples in [-1, 1], found dtype '
                            f'{waveform.dtype} (scale integer PCM first, e.g. int16 / 32768)')
        tensor = torch.from_numpy(np.ascontiguousarray(waveform))
    elif isinstance(waveform, torch.Tensor):
        if not waveform.is_floating_point():
            raise TypeError(f'expected a floating waveform with samples in [-1, 1], found dtype '
                            f'{waveform.dtype} (scale integer PCM first, e.g. int16 / 32768)')
        tensor = waveform
    else:
        raise TypeError(f'expected a numpy array or torch tensor, found {type(waveform).__name__}')
    if tensor.dtype not in (torch.float32, torch.float64):
        tensor = tensor.float()
    return tensor


def _resample_tensor(waveform: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """Resample ``[T]`` or ``[B, T]`` to 16 kHz with soxr (on CPU; not differentiable)."""
    array = waveform.detach().cpu().numpy()
    resampled = resample_waveform(array.T, int(sample_rate), VGGISH_SAMPLE_RATE).T
    return torch.from_numpy(np.ascontiguousarray(resampled)).to(waveform.device)


class _Workspace:
    """The block buffers of :func:`log_mel_frames` and their views (one per thread, reused).

    ``padded`` ``[rows, 512]`` is the FFT input (columns 400..511 are zeroed here, once: the zero
    padding), ``magnitude`` ``[rows, 235]`` and ``mel`` ``[rows, 64]`` the magnitudes and mel
    energies of a block. The views for a block of ``b`` clips x ``f`` frames are built on first use
    and kept: a call has at most two block shapes (the full one and a shorter last one), and each
    torch view costs a few microseconds, as much as a small product.
    """

    def __init__(self, waveform: torch.Tensor, rows: int, groups: Tuple[MelGroup, ...],
                 num_bins: int):
        self.key = (waveform.device, waveform.dtype, rows, num_bins)
        self.padded = waveform.new_empty(rows, FFT_LENGTH)
        self.padded[:, STFT_WINDOW_LENGTH:].zero_()
        self.magnitude = waveform.new_empty(rows, num_bins)
        self.mel = waveform.new_empty(rows, NUM_MEL_BINS)
        self.groups = groups
        self._views = {}

    def views(self, b: int, f: int) -> tuple:
        """The views of a block of ``n = b * f`` rows.

        Returns ``(windowed [b, f, 400], fft_input [n, 512], magnitude [n, 235], mel [n, 64],
        products)``, where ``products`` holds one ``(magnitude bins, weights, mel bands)`` triple
        per mel group: ``torch.mm`` of the first two into the third.
        """
        if (b, f) not in self._views:
            n = b * f
            padded, magnitude, mel = self.padded[:n], self.magnitude[:n], self.mel[:n]
            products = tuple((magnitude[:, start:stop], weights, mel[:, bands])
                             for start, stop, weights, bands in self.groups)
            windowed = padded.view(b, f, FFT_LENGTH)[..., :STFT_WINDOW_LENGTH]
            self._views[b, f] = (windowed, padded, magnitude, mel, products)
        return self._views[b, f]

    @classmethod
    def for_thread(cls, waveform: torch.Tensor, rows: int, groups: Tuple[MelGroup, ...],
                   num_bins: int) -> '_Workspace':
        """The calling thread's last workspace if it fits, else a new one that replaces it.

        Calls on clips of one length (a dataset's 5 s clips) then skip the allocations and the
        views (~0.1 ms of a 1.2 ms call for one 5 s clip). One workspace per thread is kept,
        ``rows x 811`` elements (1.6 MB for a 5 s float32 clip at one torch thread; ``rows`` is at
        most one block); threads never share one.
        """
        workspace = getattr(_THREAD_WORKSPACE, 'last', None)
        key = (waveform.device, waveform.dtype, rows, num_bins)
        if workspace is None or workspace.key != key or workspace.groups is not groups:
            workspace = cls(waveform, rows, groups, num_bins)
            _THREAD_WORKSPACE.last = workspace
        return workspace


def log_mel_frames(waveform: torch.Tensor, num_frames: int) -> torch.Tensor:
    """The first ``num_frames`` VGGish log-mel frames of 16 kHz waveforms.

    Frames go through the steps a-e of the module docstring in blocks of whole clips (or of
    consecutive frames of one clip), about ``BLOCK_FRAMES * torch.get_num_threads()`` frames
    each; results do not depend on the blocking. As in the reference, a non-finite sample
    poisons exactly the frames whose 400 samples hold it.

    Args:
        waveform (torch.Tensor): float32/float64 ``[B, T]`` at 16 kHz with
            ``T >= (num_frames - 1) * 160 + 400``.
        num_frames (int): Frames to compute (10 ms hop each), >= 1.

    Returns:
        torch.Tensor: ``[B, num_frames, 64]`` natural-log mel magnitudes, same dtype/device.
    """
    needed = (num_frames - 1) * STFT_HOP_LENGTH + STFT_WINDOW_LENGTH
    if num_frames < 1 or waveform.ndim != 2 or waveform.shape[-1] < needed:
        raise ValueError(f'expected num_frames >= 1 and a waveform [B, T] with T >= {needed} '
                         f'samples for {num_frames} frames, found shape {tuple(waveform.shape)}')
    window, groups, lo, hi = _torch_constants(waveform.device, waveform.dtype)
    batch_size = waveform.shape[0]
    block = max(1, BLOCK_FRAMES * torch.get_num_threads())
    # whole clips per block, or (clips longer than a block) one clip's frames in several blocks
    clips_per_block = min(batch_size, max(1, block // num_frames))
    frames_per_block = min(num_frames, block)
    workspace = _Workspace.for_thread(waveform, clips_per_block * frames_per_block, groups, hi - lo)
    frames = waveform.unfold(-1, STFT_WINDOW_LENGTH, STFT_HOP_LENGTH)  # [B, >= F, 400] view
    out = waveform.new_empty(batch_size, num_frames, NUM_MEL_BINS)
    out_rows = out.view(batch_size * num_frames, NUM_MEL_BINS)  # a block's rows are contiguous
    for clip in range(0, batch_size, clips_per_block):
        for frame in range(0, num_frames, frames_per_block):
            block_frames = frames[clip:clip + clips_per_block,
                                  frame:min(frame + frames_per_block, num_frames)]
            b, f = block_frames.shape[:2]
            windowed, fft_input, magnitude, mel, products = workspace.views(b, f)
            torch.mul(block_frames, window, out=windowed)
            bins = torch.view_as_real(torch.fft.rfft(fft_input))[:, lo:hi]  # [n, 235, 2]
            bins.square_()
            real, imag = bins.unbind(-1)
            torch.add(real, imag, out=magnitude).sqrt_()  # [n, 235]
            for bins_of_group, weights, bands_of_group in products:
                torch.mm(bins_of_group, weights, out=bands_of_group)
            row = clip * num_frames + frame
            torch.log(mel.add_(LOG_OFFSET), out=out_rows[row:row + b * f])
    return out


def waveform_to_examples(waveform: Waveform,
                         sample_rate: int,
                         num_examples: Optional[int] = None) -> torch.Tensor:
    """Turn mono waveforms into VGGish log-mel examples (see the module docstring).

    Args:
        waveform (np.ndarray | torch.Tensor): Mono samples in [-1, 1], ``[T]`` or a batch
            ``[B, T]`` of equal-length clips. float32 is computed in float32, float64 in float64,
            float16/bfloat16 in float32; integer input is refused (scale it first). Torch input
            stays on its device. This is fixed preprocessing: no autograd graph is recorded.
        sample_rate (int): Rate of ``waveform`` in Hz; anything but 16000 is resampled to 16 kHz
            with soxr (``'VHQ'``) first.
        num_examples (int | None): ``None`` returns every whole example (``N = floor(F / 96)``,
            see :func:`num_examples_for`; 0 for clips under 0.975 s). An integer ``n >= 1``
            returns exactly ``n``: extra examples are cut, missing ones repeat the last example
            (the AVSBench convention); a clip too short for a single example is zero-padded at
            the end to 15600 samples (0.975 s) first.

    Returns:
        torch.Tensor: ``[N, 96, 64]`` (or ``[B, N, 96, 64]`` for batch input) log-mel examples:
        example ``i`` covers seconds ``[0.96 i, 0.96 i + 0.975)``. Digital silence gives
        ``log(0.01)`` everywhere.
    """
    with torch.no_grad():
        return _waveform_to_examples(waveform, sample_rate, num_examples)


def _waveform_to_examples(waveform: Waveform, sample_rate: int,
                          num_examples: Optional[int]) -> torch.Tensor:
    if num_examples is not None and (int(num_examples) != num_examples or num_examples < 1):
        raise ValueError(f'num_examples must be None or an integer >= 1, got {num_examples!r}')
    signal = _as_float_tensor(waveform)
    if signal.ndim not in (1, 2):
        raise ValueError(f'expected a waveform [T] or a batch [B, T], found shape '
                         f'{tuple(signal.shape)}')
    if int(sample_rate) != VGGISH_SAMPLE_RATE:
        signal = _resample_tensor(signal, sample_rate)
    batched = signal.ndim == 2
    if not batched:
        signal = signal.unsqueeze(0)
    available = num_examples_for(signal.shape[-1])
    if num_examples is not None and available == 0:
        signal = F.pad(signal, (0, EXAMPLE_SAMPLES - signal.shape[-1]))
        available = 1
    count = available if num_examples is None else min(available, int(num_examples))
    batch_size = signal.shape[0]
    if count == 0:
        examples = signal.new_zeros(batch_size, 0, EXAMPLE_FRAMES, NUM_MEL_BINS)
    else:
        frames = log_mel_frames(signal, count * EXAMPLE_FRAMES)
        examples = frames.reshape(batch_size, count, EXAMPLE_FRAMES, NUM_MEL_BINS)
    if num_examples is not None:
        examples = fit_num_examples(examples, int(num_examples))
    return examples if batched else examples[0]
