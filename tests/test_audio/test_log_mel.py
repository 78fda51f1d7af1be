# Copyright (c) mmavs contributors. All rights reserved.
"""VGGish log-mel featurisation: parity with the numpy reference, golden values, API contract."""
import math

import numpy as np
import pytest
import soxr
import torch

from mmavs.audio import (EXAMPLE_SAMPLES, num_examples_for, periodic_hann, vggish_mel_matrix,
                         waveform_to_examples)
from mmavs.audio.log_mel import _torch_constants

SR = 16000
LOG_FLOOR = math.log(0.01)


def sine(freq_hz=1000.0, seconds=1.0, amplitude=0.5, sample_rate=SR):
    n = np.arange(int(round(seconds * sample_rate)))
    return amplitude * np.sin(2 * np.pi * freq_hz * n / sample_rate)


def white_noise(num_samples=SR, seed=1234):
    return np.random.default_rng(seed).uniform(-0.5, 0.5, num_samples)


def test_mel_matrix_equals_reference_construction(vggish_ref):
    ours = vggish_mel_matrix()
    ref = vggish_ref.mel_matrix(64, 257, 16000, 125.0, 7500.0)
    assert ours.shape == (257, 64)
    np.testing.assert_array_equal(ours, ref)
    # the DC row is zero (HTK); nothing above 7500 Hz (bin 240 = 7500 Hz) has weight
    assert not ours[0].any() and not ours[240:].any()
    # every band is a non-empty triangle peaking at <= 1
    assert (ours.max(axis=0) > 0).all() and ours.max() <= 1.0


def test_periodic_hann_matches_reference(vggish_ref):
    np.testing.assert_array_equal(periodic_hann(400), vggish_ref.periodic_hann(400))
    # periodic, not symmetric: w[0] = 0, w[200] = 1, w[399] != 0
    assert periodic_hann(400)[0] == 0.0 and periodic_hann(400)[200] == 1.0
    assert periodic_hann(400)[399] > 0.0


@pytest.mark.parametrize('num_samples', [15600, 16000, 32123, 80000, 80159, 96000 + 401])
def test_float64_parity_with_numpy_reference(vggish_ref, num_samples):
    wave = white_noise(num_samples, seed=num_samples) * 1.6
    expected = vggish_ref.waveform_to_examples(wave)
    ours = waveform_to_examples(wave, SR)
    assert ours.dtype == torch.float64
    assert tuple(ours.shape) == expected.shape
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize('signal', ['noise', 'sine', 'chirp', 'quiet'])
def test_float32_parity_with_numpy_reference(vggish_ref, signal):
    n = np.arange(5 * SR)
    waves = dict(
        noise=white_noise(5 * SR, seed=7),
        sine=sine(440.0, 5.0, 0.9),
        chirp=0.7 * np.sin(2 * np.pi * (100 + 7000 * n / (5 * SR) / 2) * n / SR),
        quiet=1e-4 * white_noise(5 * SR, seed=3))
    wave32 = waves[signal].astype(np.float32)
    expected = vggish_ref.waveform_to_examples(wave32.astype(np.float64))
    ours = waveform_to_examples(wave32, SR)
    assert ours.dtype == torch.float32 and tuple(ours.shape) == (5, 96, 64)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-3)


def test_golden_silence_is_log_offset_everywhere():
    ours = waveform_to_examples(np.zeros(5 * SR, dtype=np.float32), SR)
    assert tuple(ours.shape) == (5, 96, 64)
    assert torch.equal(ours, torch.full_like(ours, LOG_FLOOR))


def test_golden_sine(vggish_ref):
    # 1 kHz at 16 kHz has a 16-sample period and the hop is 160 samples, so every frame sees the
    # same samples: all 96 frames are identical. |rfft| at bin 32 (exactly 1 kHz) is
    # A * sum(window) / 2 = 0.5 * 200 / 2 = 50 (the 400-sample window holds 25 whole periods).
    # Bin 32 feeds bands 19 (weight 0.536) and 20 (0.464); band 19 peaks. Values below were
    # computed once with the float64 numpy reference and are pinned here.
    wave = sine(1000.0, 1.0, 0.5)
    spectrum = vggish_ref.stft_magnitude(wave, 512, 160, 400)
    assert spectrum[0, 32] == pytest.approx(50.0, abs=1e-9)
    ours = waveform_to_examples(wave, SR)
    assert tuple(ours.shape) == (1, 96, 64)
    assert float((ours[0] - ours[0, :1]).abs().max()) < 1e-8
    assert int(ours[0, 0].argmax()) == 19
    assert float(ours[0, 0, 19]) == pytest.approx(4.1180519288533, abs=1e-9)
    assert float(ours[0, 0, 20]) == pytest.approx(4.0819815900, abs=1e-8)
    assert float(ours.mean()) == pytest.approx(-3.6572246959628, abs=1e-9)
    # lower bound from the bin-32 contribution alone
    assert float(ours[0, 0, 19]) > math.log(0.536 * 50.0)


def test_golden_white_noise():
    # uniform(-0.5, 0.5), default_rng(1234), 1 s; statistics of the float64 reference, pinned
    ours = waveform_to_examples(white_noise(SR, seed=1234), SR)
    assert tuple(ours.shape) == (1, 96, 64)
    assert float(ours.mean()) == pytest.approx(2.146457534772822, abs=1e-9)
    assert float(ours.std(unbiased=False)) == pytest.approx(0.7985159832278906, abs=1e-9)
    np.testing.assert_allclose(
        ours[0, 0, :4].numpy(), [0.14747454, 0.89788031, 0.91862437, 0.96408266], atol=1e-7)


def test_batch_equals_single_clips_and_torch_equals_numpy():
    waves = np.stack([white_noise(3 * SR, seed=s) for s in range(3)]).astype(np.float32)
    batch = waveform_to_examples(torch.from_numpy(waves), SR)
    assert tuple(batch.shape) == (3, 3, 96, 64)
    for i, wave in enumerate(waves):
        torch.testing.assert_close(batch[i], waveform_to_examples(wave, SR), rtol=0, atol=1e-5)


def test_num_examples_cuts_and_pads_by_repeating_last():
    wave = white_noise(int(2.5 * SR), seed=11).astype(np.float32)
    natural = waveform_to_examples(wave, SR)
    assert natural.shape[0] == 2
    padded = waveform_to_examples(wave, SR, num_examples=5)
    assert tuple(padded.shape) == (5, 96, 64)
    torch.testing.assert_close(padded[:2], natural)
    for i in range(2, 5):
        assert torch.equal(padded[i], natural[1])
    cut = waveform_to_examples(wave, SR, num_examples=1)
    assert tuple(cut.shape) == (1, 96, 64)
    torch.testing.assert_close(cut[0], natural[0])
    batch = waveform_to_examples(np.stack([wave, wave]), SR, num_examples=4)
    assert tuple(batch.shape) == (2, 4, 96, 64)


def test_clip_shorter_than_one_example():
    short = white_noise(8000, seed=2).astype(np.float32)  # 0.5 s < 0.975 s
    assert num_examples_for(8000) == 0
    assert tuple(waveform_to_examples(short, SR).shape) == (0, 96, 64)
    padded = waveform_to_examples(short, SR, num_examples=3)
    assert tuple(padded.shape) == (3, 96, 64)
    zero_padded = np.concatenate([short, np.zeros(EXAMPLE_SAMPLES - 8000, np.float32)])
    torch.testing.assert_close(padded[0], waveform_to_examples(zero_padded, SR)[0])
    # the zero-padded tail is silence
    assert torch.equal(padded[0, -1], torch.full((64, ), LOG_FLOOR))


def test_num_examples_for_counts_like_the_reference(vggish_ref):
    for num_samples in [0, 399, 400, 15599, 15600, 31199, 31200, 80000]:
        if num_samples >= 400:
            frames = 1 + (num_samples - 400) // 160
            expected = frames // 96
        else:
            expected = 0
        assert num_examples_for(num_samples) == expected
    assert num_examples_for(80000) == 5


def test_resamples_other_rates_with_soxr():
    wave = sine(700.0, 2.0, 0.6, sample_rate=44100).astype(np.float32)
    resampled = soxr.resample(wave, 44100, SR, quality='VHQ')
    expected = waveform_to_examples(resampled, SR)
    ours = waveform_to_examples(wave, 44100)
    torch.testing.assert_close(ours, expected)
    batch = waveform_to_examples(np.stack([wave, wave]), 44100)
    torch.testing.assert_close(batch[1], expected)


def test_dtypes_and_no_autograd_graph():
    wave = torch.from_numpy(white_noise(SR, seed=5)).float().requires_grad_(True)
    out = waveform_to_examples(wave, SR)
    assert out.dtype == torch.float32 and not out.requires_grad
    half = waveform_to_examples(wave.detach().half(), SR)
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, waveform_to_examples(wave.detach().half().float(), SR))


def test_blocking_does_not_change_results(monkeypatch):
    from mmavs.audio import log_mel
    waves = torch.from_numpy(white_noise(3 * 50000, seed=8).reshape(3, 50000))
    reference = waveform_to_examples(waves, SR)
    for block in (7, 96, 100, 10**6):  # a few frames per block ... everything in one block
        monkeypatch.setattr(log_mel, 'BLOCK_FRAMES', block)
        torch.testing.assert_close(waveform_to_examples(waves, SR), reference, rtol=0, atol=1e-12)


def test_constants_are_cached_per_device_and_dtype():
    _torch_constants.cache_clear()
    for _ in range(3):
        waveform_to_examples(np.zeros(SR, np.float32), SR)
    waveform_to_examples(np.zeros(SR, np.float64), SR)
    info = _torch_constants.cache_info()
    assert info.misses == 2 and info.hits == 2


@pytest.mark.parametrize('bad, error', [
    (np.zeros(SR, dtype=np.int16), TypeError),
    (np.zeros((2, 3, SR), dtype=np.float32), ValueError),
    ([0.0] * SR, TypeError),
])
def test_rejects_bad_waveforms(bad, error):
    with pytest.raises(error):
        waveform_to_examples(bad, SR)


@pytest.mark.parametrize('num_examples', [0, -1, 2.5])
def test_rejects_bad_num_examples(num_examples):
    with pytest.raises(ValueError, match='num_examples'):
        waveform_to_examples(np.zeros(SR, np.float32), SR, num_examples=num_examples)


# --- the blocked float32/float64 path of log_mel_frames (rfft on a zero-tailed buffer, 235 bins,
# grouped mel product) against independent oracles ---------------------------------------------


def stft_log_mel(waves: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Oracle written with ``torch.stft`` and the dense ``[257, 64]`` mel matrix: ``[B, F, 64]``.

    ``torch.stft`` centres the 400-sample window in the 512-sample frame; 56 zeros on each side
    put frame ``t``'s window over samples ``[160 t, 160 t + 400)`` as in VGGish (and give the same
    frame count), and the circular shift of the windowed frame by 56 samples changes the
    spectrum's phase, not its magnitude.
    """
    window = torch.hann_window(400, periodic=True, dtype=waves.dtype)
    spec = torch.stft(
        torch.nn.functional.pad(waves, (56, 56)),
        n_fft=512,
        hop_length=160,
        win_length=400,
        window=window,
        center=False,
        return_complex=True)
    magnitude = spec.abs().transpose(1, 2)  # [B, F, 257]
    assert magnitude.shape[1] == num_frames
    mel = torch.as_tensor(vggish_mel_matrix(), dtype=waves.dtype)
    return torch.log(magnitude @ mel + 0.01)


@pytest.mark.parametrize('num_groups', [1, 2, 4, 7])
def test_mel_groups_reassemble_the_matrix(num_groups):
    from mmavs.audio.log_mel import _mel_groups_np
    lo, hi, groups = _mel_groups_np(num_groups)
    full = vggish_mel_matrix()
    assert (lo, hi) == (5, 240)  # bins 5..239 (156-7469 Hz) hold every non-zero weight
    assert not full[:lo].any() and not full[hi:].any()
    rebuilt = np.zeros((hi - lo, 64))
    covered = np.zeros(64, dtype=int)
    for start, stop, block, bands in groups:
        assert block.shape == (stop - start, bands.stop - bands.start)
        rebuilt[start:stop, bands] = block
        covered[bands] += 1
    assert (covered == 1).all()  # the groups partition the 64 bands
    np.testing.assert_array_equal(rebuilt, full[lo:hi])  # nothing non-zero left out
    if num_groups == 4:  # the shipped split does about a quarter of the dense work
        assert sum(block.size for _, _, block, _ in groups) < 0.3 * (hi - lo) * 64


@pytest.mark.parametrize('num_samples', [400, 15600, 24001, 80000, 81234])
def test_log_mel_frames_matches_torch_stft(num_samples):
    from mmavs.audio import log_mel_frames
    gen = torch.Generator().manual_seed(num_samples)
    waves = torch.rand(3, num_samples, generator=gen, dtype=torch.float64) - 0.5
    waves[1] *= 1e-3  # a quiet clip beside loud ones in the same block
    num_frames = 1 + (num_samples - 400) // 160
    expected = stft_log_mel(waves, num_frames)
    ours = log_mel_frames(waves, num_frames)
    assert ours.shape == (3, num_frames, 64) and ours.dtype == torch.float64
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-10)
    ours32 = log_mel_frames(waves.float(), num_frames)
    assert ours32.dtype == torch.float32
    torch.testing.assert_close(ours32.double(), expected, rtol=0, atol=1e-3)


@pytest.mark.parametrize('block', [1, 50, 96, 481])
def test_ragged_blocks_match_the_reference(vggish_ref, monkeypatch, block):
    # blocks of a few clips, of part of a clip, and a short last block: the reused frame buffer
    # must keep its zero tail and the reused rows must not leak between blocks
    from mmavs.audio import log_mel
    monkeypatch.setattr(log_mel, 'BLOCK_FRAMES', block)
    waves = np.stack([white_noise(3 * SR + 77, seed=20 + i) * (10.0**-i) for i in range(5)])
    ours = waveform_to_examples(waves, SR)
    expected = np.stack([vggish_ref.waveform_to_examples(wave) for wave in waves])
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-10)


def test_results_do_not_depend_on_the_thread_count():
    # the block size scales with torch.get_num_threads()
    waves = torch.from_numpy(np.stack([white_noise(5 * SR, seed=s) for s in range(6)]))
    threads = torch.get_num_threads()
    try:
        results = []
        for count in (1, 2, 3):
            torch.set_num_threads(count)
            results.append(waveform_to_examples(waves, SR))
    finally:
        torch.set_num_threads(threads)
    for result in results[1:]:
        torch.testing.assert_close(result, results[0], rtol=0, atol=1e-12)


def test_strided_input_equals_contiguous_input():
    # framing is a view of the caller's tensor: any strides must give the same numbers
    wide = torch.from_numpy(white_noise(4 * 2 * SR, seed=9).reshape(2 * SR, 4)).float()
    columns = wide.t()  # [4, T], non-contiguous
    assert not columns.is_contiguous()
    torch.testing.assert_close(
        waveform_to_examples(columns, SR),
        waveform_to_examples(columns.contiguous(), SR),
        rtol=0,
        atol=0)


def test_non_finite_samples_poison_only_frames_that_hold_them(vggish_ref):
    # a NaN or inf at sample s reaches exactly the frames whose 400 samples include s (not those
    # whose 512-sample FFT span does: s = 1250 lies 450 samples into frame 5)
    wave = white_noise(SR, seed=4)
    wave[1250] = np.nan
    wave[9050] = np.inf
    ours = waveform_to_examples(wave, SR).reshape(-1, 64)
    with np.errstate(invalid='ignore'):
        expected = vggish_ref.waveform_to_examples(wave).reshape(-1, 64)
    bad = ~np.isfinite(expected).all(axis=1)
    np.testing.assert_array_equal(~torch.isfinite(ours).all(dim=1).numpy(), bad)
    frames = np.arange(96)
    holds = ((frames * 160 <= 1250) & (1250 < frames * 160 + 400)) | ((frames * 160 <= 9050) &
                                                                      (9050 < frames * 160 + 400))
    assert np.flatnonzero(holds).tolist() == [6, 7, 55, 56]
    np.testing.assert_array_equal(bad, holds)
    np.testing.assert_allclose(ours.numpy()[~bad], expected[~bad], rtol=0, atol=1e-10)


def test_log_mel_frames_rejects_too_short_waveforms():
    from mmavs.audio import log_mel_frames
    expected = r'T >= 15600 samples for 96 frames, found shape \(1, 15599\)'
    with pytest.raises(ValueError, match=expected):
        log_mel_frames(torch.zeros(1, 15599), 96)
    with pytest.raises(ValueError, match='num_frames >= 1'):
        log_mel_frames(torch.zeros(1, 16000), 0)
    assert log_mel_frames(torch.zeros(1, 15600), 96).shape == (1, 96, 64)


def test_reused_workspace_gives_the_same_numbers_after_other_calls():
    # each thread keeps its last block buffers; calls of other lengths / dtypes must replace them
    a = white_noise(2 * SR + 5, seed=31).astype(np.float32)
    b = white_noise(3 * SR, seed=32)  # float64, more frames per block
    first = waveform_to_examples(a, SR)
    waveform_to_examples(b, SR)
    waveform_to_examples(np.stack([a, a, a]), SR)
    assert torch.equal(waveform_to_examples(a, SR), first)
    same_layout = waveform_to_examples(a.astype(np.float64), SR)  # same rows, other dtype
    assert same_layout.dtype == torch.float64
    torch.testing.assert_close(same_layout.float(), first, rtol=0, atol=1e-4)
    assert torch.equal(waveform_to_examples(a, SR), first)  # a reused workspace


def test_threads_do_not_share_workspaces():
    from concurrent.futures import ThreadPoolExecutor
    clips = [white_noise(SR + 160 * i, seed=40 + i).astype(np.float32) for i in range(4)]
    expected = [waveform_to_examples(clip, SR) for clip in clips]

    def run(index):  # torch releases the GIL inside its kernels: the threads really interleave
        return all(
            torch.equal(waveform_to_examples(clips[index], SR), expected[index]) for _ in range(16))

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(run, range(4)))
    finally:
        torch.set_num_threads(threads)
