# Copyright (c) mmavs contributors. All rights reserved.
"""Plain-numpy VGGish input pipeline, written from the published algorithm, for parity tests.

It follows the AudioSet ``mel_features.py`` / ``vggish_input.py`` recipe step by step and on
purpose shares no code with :mod:`mmavs.audio`: one clip at a time, float64, framing with a strided
view, ``np.fft.rfft``, the mel matrix built band by band on every call (as the reference does).
Used by ``tests/test_audio`` and ``benchmarks/bench_audio.py`` (loaded by file path).
"""
import numpy as np

SAMPLE_RATE = 16000
WINDOW_SECONDS = 0.025
HOP_SECONDS = 0.010
NUM_BANDS = 64
LOWER_HZ = 125.0
UPPER_HZ = 7500.0
LOG_OFFSET = 0.01
EXAMPLE_SECONDS = 0.96


def frame(data, window_length, hop_length):
    """Frames ``[num_frames, window_length, ...]`` of ``data`` (a strided view, no copy)."""
    num_frames = 1 + int(np.floor((data.shape[0] - window_length) / hop_length))
    shape = (num_frames, window_length) + data.shape[1:]
    strides = (data.strides[0] * hop_length, ) + data.strides
    return np.lib.stride_tricks.as_strided(data, shape=shape, strides=strides, writeable=False)


def periodic_hann(window_length):
    """``0.5 - 0.5 cos(2 pi n / L)`` for ``n = 0..L-1``."""
    n = np.arange(window_length)
    return 0.5 - 0.5 * np.cos(2 * np.pi / window_length * n)


def stft_magnitude(signal, fft_length, hop_length, window_length):
    """``|rfft(frame * window, fft_length)|`` for every frame: ``[num_frames, fft_length/2+1]``."""
    frames = frame(signal, window_length, hop_length)
    return np.abs(np.fft.rfft(frames * periodic_hann(window_length), int(fft_length)))


def hertz_to_mel(hertz):
    """HTK mel: ``1127 ln(1 + f / 700)``."""
    return 1127.0 * np.log(1.0 + hertz / 700.0)


def mel_matrix(num_bands, num_spectrogram_bins, sample_rate, lower_hz, upper_hz):
    """``[num_spectrogram_bins, num_bands]`` triangular HTK-mel weights, DC row zeroed."""
    bin_mel = hertz_to_mel(np.linspace(0.0, sample_rate / 2.0, num_spectrogram_bins))
    edges = np.linspace(hertz_to_mel(lower_hz), hertz_to_mel(upper_hz), num_bands + 2)
    weights = np.empty((num_spectrogram_bins, num_bands))
    for band in range(num_bands):
        left, centre, right = edges[band], edges[band + 1], edges[band + 2]
        up = (bin_mel - left) / (centre - left)
        down = (right - bin_mel) / (right - centre)
        weights[:, band] = np.maximum(0.0, np.minimum(up, down))
    weights[0, :] = 0.0  # HTK ignores the DC bin
    return weights


def log_mel_spectrogram(data, sample_rate=SAMPLE_RATE):
    """``[num_frames, 64]`` VGGish log-mel spectrogram of a 1-D signal."""
    window_length = int(round(sample_rate * WINDOW_SECONDS))  # 400
    hop_length = int(round(sample_rate * HOP_SECONDS))  # 160
    fft_length = 2**int(np.ceil(np.log(window_length) / np.log(2.0)))  # 512
    spectrogram = stft_magnitude(data, fft_length, hop_length, window_length)
    weights = mel_matrix(NUM_BANDS, spectrogram.shape[1], sample_rate, LOWER_HZ, UPPER_HZ)
    return np.log(np.dot(spectrogram, weights) + LOG_OFFSET)


def waveform_to_examples(data):
    """``[num_examples, 96, 64]`` float64 VGGish examples of a 16 kHz mono signal."""
    data = np.asarray(data, dtype=np.float64)
    log_mel = log_mel_spectrogram(data)
    example_length = int(round(EXAMPLE_SECONDS / HOP_SECONDS))  # 96
    return np.array(frame(log_mel, example_length, example_length))
