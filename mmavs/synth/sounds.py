# Copyright (c) mmavs contributors. All rights reserved.
"""Sound synthesis of the SynthAVS categories at 16 kHz.

Every category has one sound family, written as a function ``(rng, num_samples, sr) -> float
[num_samples]`` with per-clip variation of pitch, tempo, timbre and rhythm:

============  ================================================================================
guitar        plucked notes of a pentatonic scale (110-440 Hz), decaying harmonics, some strums
piano         hammered notes/chords (130-1050 Hz), slightly inharmonic partials, long decay
flute         legato notes (520-1500 Hz), weak overtones, 5 Hz vibrato, breath noise
singer        sung vowels (196-660 Hz), 5-6.5 Hz vibrato, three formants
speaker       syllables (95-200 Hz voice), word pauses, changing vowels, fricative onsets
baby          laughter: groups of 3-7 "ha" bursts at 4-6 Hz (350-550 Hz), breathy
dog           barks (0.12-0.25 s, 450-800 Hz falling), noisy harmonics, irregular intervals
bird          trills of short frequency sweeps between 2 and 6.5 kHz
owl           low hoots (280-450 Hz) in groups of 2-4, soft attack
siren         wail (period 1.2-3 s) or two-tone hi-lo, square-like timbre
engine        firing pulses (12-30 Hz) with drifting rpm, deep throb, rpm-locked gear whine
              (300-900 Hz) and low rumble
typewriter    random key clicks (7-13 per second), thunks, an occasional bell
============  ================================================================================

:func:`synthesize_clip_audio` mixes the sounds of the sounding objects, sets the clip level
(RMS -20 dBFS ± 6 dB) and adds low room noise (pink, -62 to -48 dBFS) so that no clip is
digitally clean. Nothing marks a clip as "positive": the result is an ordinary recording of the
objects; silence, noise and off-screen negatives are made elsewhere (AVSBench-Robust).
"""
from functools import lru_cache
from typing import Callable, Dict, Sequence

import numpy as np
from scipy import signal

from ..utils.constants import SAMPLE_RATE

DURATION_S = 5.0
_NYQ_GUARD = 7600.0  # partials above this (Hz) are dropped (VGGish mel tops out at 7.5 kHz)

VOWEL_FORMANTS = {
    'a': (800, 1200, 2500),
    'e': (500, 1800, 2500),
    'i': (320, 2300, 3000),
    'o': (500, 900, 2400),
    'u': (350, 800, 2300),
}

# ----------------------------------------------------------------------------------------------
# building blocks


def _add(out: np.ndarray, start: int, sig: np.ndarray) -> None:
    """Add ``sig`` into ``out`` from sample ``start``, clipping at both ends."""
    if start >= len(out) or start + len(sig) <= 0:
        return
    lo = max(start, 0)
    hi = min(start + len(sig), len(out))
    out[lo:hi] += sig[lo - start:hi - start]


def _harmonics(f0: np.ndarray,
               amps: Sequence[float],
               sr: int,
               rng: np.random.Generator,
               stretch: float = 0.0) -> np.ndarray:
    """Sum of partials ``k * f0 * sqrt(1 + stretch k^2)`` with amplitudes ``amps[k-1]``.

    Args:
        f0 (np.ndarray): Fundamental per sample, Hz, ``[T]``.
        amps (Sequence[float]): Partial amplitudes (k = 1, 2, ...).
        stretch (float): Inharmonicity coefficient B (0 = harmonic).
    """
    phase = 2 * np.pi * np.cumsum(f0) / sr
    out = np.zeros_like(f0)
    fmax = float(np.max(f0))
    floor = 1e-3 * max(abs(a) for a in amps)  # partials 60 dB down are inaudible in the mix
    for k, amp in enumerate(amps, start=1):
        ratio = k * np.sqrt(1 + stretch * k * k)
        if abs(amp) < floor or ratio * fmax > _NYQ_GUARD:
            continue
        out += amp * np.sin(ratio * phase + rng.uniform(0, 2 * np.pi))
    return out


def _decay(n: int, sr: int, tau: float, attack: float = 0.003) -> np.ndarray:
    """Envelope: linear attack of ``attack`` s then exponential decay with time constant ``tau``."""
    t = np.arange(n) / sr
    env = np.exp(-np.maximum(t - attack, 0) / tau)
    na = max(1, int(attack * sr))
    env[:na] *= np.linspace(0, 1, na)
    return env


def _hann_env(n: int, sr: int, ramp: float) -> np.ndarray:
    """Flat envelope with raised-cosine ramps of ``ramp`` s at both ends."""
    env = np.ones(n)
    nr = min(max(1, int(ramp * sr)), n // 2)
    r = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, nr))
    env[:nr] *= r
    env[n - nr:] *= r[::-1]
    return env


@lru_cache(maxsize=256)
def _butter_sos(order: int, lo: float, hi: float, btype: str, sr: int) -> np.ndarray:
    """Cached Butterworth design; ``hi`` is ignored for low-pass filters."""
    band = lo if btype == 'lowpass' else [lo, min(hi, sr / 2 * 0.95)]
    return signal.butter(order, band, btype=btype, fs=sr, output='sos')


def _resonator_sos(freq: float, bandwidth: float, sr: int) -> np.ndarray:
    """2nd-order band-pass resonator (unit peak gain) at ``freq`` Hz, ``bandwidth`` Hz wide."""
    w0 = 2 * np.pi * freq / sr
    alpha = np.sin(w0) * np.sinh(np.log(2) / 2 * (bandwidth / freq) * w0 / np.sin(w0))
    a0 = 1 + alpha
    return np.array([[alpha / a0, 0.0, -alpha / a0, 1.0, -2 * np.cos(w0) / a0, (1 - alpha) / a0]])


def _band_noise(n: int, lo: float, hi: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise band-limited to ``[lo, hi]`` Hz (4th-order Butterworth)."""
    return signal.sosfilt(
        _butter_sos(2, float(lo), float(hi), 'bandpass', sr), rng.standard_normal(n))


def _formant_filter(x: np.ndarray,
                    formants: Sequence[float],
                    sr: int,
                    weights: Sequence[float] = (1.0, 0.6, 0.3)) -> np.ndarray:
    """Parallel bank of 2nd-order resonators at the formant frequencies (Hz)."""
    out = np.zeros_like(x)
    for f, w in zip(formants, weights):
        out += w * signal.sosfilt(_resonator_sos(f, 60 + 0.08 * f, sr), x)
    return out


def _smooth(curve: np.ndarray, width: int) -> np.ndarray:
    """Moving average of ``width`` samples (edges held)."""
    if width <= 1:
        return curve
    kernel = np.ones(width) / width
    padded = np.pad(curve, (width, width), mode='edge')
    return np.convolve(padded, kernel, 'same')[width:-width]


def _glide(values: Sequence[float], lengths: Sequence[int], smooth: int) -> np.ndarray:
    """Piecewise-constant curve (``values[i]`` for ``lengths[i]`` samples), smoothed."""
    return _smooth(np.repeat(np.asarray(values, np.float64), lengths), smooth)


def _midi_hz(m: float) -> float:
    return 440.0 * 2**((m - 69) / 12)


# ----------------------------------------------------------------------------------------------
# music


def _struck_note(f0: float,
                 amps: Sequence[float],
                 taus: Sequence[float],
                 length: int,
                 sr: int,
                 rng: np.random.Generator,
                 stretch: float = 0.0) -> np.ndarray:
    """A struck/plucked note: partial k at ``k f0 sqrt(1 + stretch k^2)`` Hz with amplitude
    ``amps[k-1]`` decaying with time constant ``taus[k-1]`` s; each partial is computed only until
    it has decayed by 60 dB."""
    note = np.zeros(length)
    for k, (amp, tau) in enumerate(zip(amps, taus), start=1):
        fk = k * f0 * np.sqrt(1 + stretch * k * k)
        if fk > _NYQ_GUARD:
            break
        m = min(length, int(6.9 * tau * sr))
        tt = np.arange(m) / sr
        phase = rng.uniform(0, 2 * np.pi)
        note[:m] += amp * np.sin(2 * np.pi * fk * tt + phase) * np.exp(-tt / tau)
    return note


def guitar(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    base = rng.uniform(110, 220)
    scale = np.array([0, 3, 5, 7, 10, 12, 15, 17])
    beat = rng.uniform(0.22, 0.5)
    pluck = rng.uniform(0.1, 0.25)
    tau0 = rng.uniform(0.4, 0.9)
    amps = [abs(np.sin(np.pi * k * pluck)) / k for k in range(1, 13)]
    taus = [tau0 / (1 + 0.3 * k) for k in range(1, 13)]
    t = rng.uniform(0, 0.2)
    while t < n / sr:
        chord = rng.choice(scale, size=3 if rng.random() < 0.3 else 1, replace=False)
        for j, step in enumerate(chord):
            m = int((beat + 0.6) * sr)
            note = _struck_note(base * 2**(step / 12), amps, taus, m, sr, rng)
            _add(out, int((t + 0.02 * j) * sr), note * _decay(m, sr, 10.0, 0.002))
        t += beat * rng.uniform(0.85, 1.15)
    return out


def piano(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    stretch = rng.uniform(1e-4, 4e-4)
    tau0 = rng.uniform(0.8, 1.6)
    beat = rng.uniform(0.3, 0.7)
    centre = rng.uniform(55, 76)
    amps = [k**-1.2 for k in range(1, 9)]
    taus = [tau0 / k**0.7 for k in range(1, 9)]
    m = int(min(2.5 * tau0, 2.0) * sr)
    t = rng.uniform(0, 0.2)
    while t < n / sr:
        notes = [centre + rng.integers(-7, 8)]
        if rng.random() < 0.4:
            notes += [notes[0] + 4, notes[0] + 7]
        for note_m in notes:
            sig = _struck_note(_midi_hz(note_m), amps, taus, m, sr, rng, stretch)
            nh = int(0.03 * sr)
            sig[:nh] += _band_noise(nh, 1500, 6000, sr, rng) * _decay(nh, sr, 0.004, 0.001) * 0.3
            _add(out, int(t * sr), sig * _decay(m, sr, 10.0, 0.003))
        t += beat * rng.uniform(0.8, 1.25)
    return out


def flute(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    values, lengths = [], []
    total = 0
    while total < n:
        m = int(rng.uniform(0.4, 1.0) * sr)
        values.append(_midi_hz(rng.uniform(72, 90)))
        lengths.append(m)
        total += m
    f0 = _glide(values, lengths, int(0.02 * sr))[:n]
    tt = np.arange(n) / sr
    f0 = f0 * (1 + rng.uniform(0.005, 0.01) * np.sin(2 * np.pi * rng.uniform(4.5, 5.5) * tt))
    tone = _harmonics(f0, [1.0, 0.35, 0.12, 0.05], sr, rng)
    breath = _band_noise(n, 800, 5000, sr, rng) * 0.08
    env = np.ones(n)
    start = 0
    for m in lengths:  # short breaths between some notes
        if rng.random() < 0.35:
            _add(env, start + m - int(0.06 * sr), -np.hanning(int(0.12 * sr)) * 0.9)
        start += m
    return (tone + breath) * np.clip(env, 0.05, 1)


# ----------------------------------------------------------------------------------------------
# human


def singer(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    vib_rate, vib_depth = rng.uniform(5.0, 6.5), rng.uniform(0.015, 0.03)
    centre = rng.uniform(58, 72)
    t = rng.uniform(0, 0.15) * sr
    while t < n:
        m = int(rng.uniform(0.35, 0.9) * sr)
        tt = np.arange(m) / sr
        f0 = _midi_hz(centre + rng.integers(-5, 6)) * (
            1 + vib_depth * np.minimum(tt / 0.25, 1) * np.sin(2 * np.pi * vib_rate * tt))
        source = _harmonics(f0, [1.0 / k for k in range(1, 30)], sr, rng)
        vowel = VOWEL_FORMANTS[rng.choice(list(VOWEL_FORMANTS))]
        note = _formant_filter(source, vowel, sr) * _hann_env(m, sr, 0.05)
        _add(out, int(t), note)
        t += m + rng.uniform(0.0, 0.15) * sr
    return out


def speaker(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    base = rng.uniform(95, 200)
    t = int(rng.uniform(0, 0.2) * sr)
    phrase_pos = 0.0
    while t < n:
        for _ in range(int(rng.integers(2, 5))):  # one word
            m = int(rng.uniform(0.12, 0.3) * sr)
            tt = np.arange(m) / sr
            accent = rng.uniform(-0.12, 0.15)
            f0 = base * (1 + accent - 0.1 * phrase_pos) * (1 - 0.6 * tt)
            voiced = _harmonics(f0, [1.0 / k for k in range(1, 40)], sr, rng)
            vowel = VOWEL_FORMANTS[rng.choice(list(VOWEL_FORMANTS))]
            syl = _formant_filter(voiced, vowel, sr) * np.hanning(m)
            if rng.random() < 0.5:
                fm = int(rng.uniform(0.03, 0.08) * sr)
                fric = _band_noise(fm, 3000, 7000, sr, rng) * np.hanning(fm) * 0.15
                _add(out, t, fric)
                t += int(fm * 0.7)
            _add(out, t, syl)
            t += m
            phrase_pos = min(phrase_pos + 0.05, 1.0)
        t += int(rng.uniform(0.05, 0.4) * sr)
        if rng.random() < 0.2:
            phrase_pos = 0.0
    return out


def baby(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    formants = (rng.uniform(950, 1100), rng.uniform(1550, 1750), rng.uniform(3000, 3400))
    rate = rng.uniform(4.0, 6.0)
    t = int(rng.uniform(0, 0.3) * sr)
    while t < n:
        for j in range(int(rng.integers(3, 8))):
            m = int(rng.uniform(0.08, 0.14) * sr)
            tt = np.arange(m) / sr
            f0 = rng.uniform(350, 550) * (1 - 0.8 * tt) * (1 - 0.02 * j)
            voiced = _harmonics(f0, [1.0 / k for k in range(1, 16)], sr, rng)
            burst = _formant_filter(voiced, formants, sr) + 0.3 * _band_noise(m, 500, 5000, sr, rng)
            _add(out, t, burst * np.hanning(m))
            t += int(sr / rate * rng.uniform(0.9, 1.1))
        gap = int(rng.uniform(0.3, 0.8) * sr)
        _add(out, t, _band_noise(gap, 300, 3000, sr, rng) * np.hanning(gap) * 0.05)  # inhale
        t += gap
    return out


# ----------------------------------------------------------------------------------------------
# animal


def dog(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    pitch = rng.uniform(450, 800)
    formants = (rng.uniform(600, 800), rng.uniform(1300, 1700), 2600)
    t = int(rng.uniform(0, 0.3) * sr)
    while t < n:
        for _ in range(2 if rng.random() < 0.35 else 1):
            m = int(rng.uniform(0.12, 0.25) * sr)
            tt = np.arange(m) / sr
            f0 = pitch * rng.uniform(0.9, 1.1) * (1 - 0.3 * tt / tt[-1])
            voiced = _harmonics(f0, [1.0 / k**0.7 for k in range(1, 14)], sr, rng)
            noise = _band_noise(m, 300, 4000, sr, rng)
            bark = _formant_filter(voiced + 0.4 * noise, formants, sr)
            _add(out, t, bark * _decay(m, sr, m / sr / 2.5, 0.005))
            t += m + int(rng.uniform(0.04, 0.1) * sr)
        t += int(rng.uniform(0.25, 0.9) * sr)
    return out


def bird(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    f_lo = rng.uniform(2000, 3500)
    f_hi = min(f_lo + rng.uniform(1000, 3000), 6500)
    contour = rng.integers(0, 3)  # up, down, up-down
    t = int(rng.uniform(0, 0.3) * sr)
    while t < n:
        spacing = rng.uniform(0.06, 0.15)
        for _ in range(int(rng.integers(4, 11))):
            m = int(rng.uniform(0.04, 0.12) * sr)
            x = np.linspace(0, 1, m)
            shape = x if contour == 0 else (1 - x if contour == 1 else np.sin(np.pi * x))
            f = f_lo + (f_hi - f_lo) * shape
            chirp = _harmonics(f, [1.0, 0.15], sr, rng) * np.hanning(m)
            _add(out, t, chirp)
            t += int(max(spacing * sr, m) * rng.uniform(0.9, 1.1))
        t += int(rng.uniform(0.3, 1.0) * sr)
    return out


def owl(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    pitch = rng.uniform(280, 450)
    t = int(rng.uniform(0, 0.3) * sr)
    while t < n:
        for _ in range(int(rng.integers(2, 5))):
            m = int(rng.uniform(0.25, 0.5) * sr)
            tt = np.arange(m) / sr
            f0 = pitch * (1 - 0.05 * tt / tt[-1])
            hoot = _harmonics(f0, [1.0, 0.15, 0.04], sr,
                              rng) + 0.05 * _band_noise(m, 200, 1500, sr, rng)
            _add(out, t, hoot * _hann_env(m, sr, 0.04))
            t += m + int(rng.uniform(0.15, 0.4) * sr)
        t += int(rng.uniform(0.8, 1.5) * sr)
    return out


# ----------------------------------------------------------------------------------------------
# device


def siren(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    tt = np.arange(n) / sr
    if rng.random() < 0.6:  # wail
        f_lo, f_hi = rng.uniform(550, 800), rng.uniform(1100, 1600)
        period = rng.uniform(1.2, 3.0)
        f0 = f_lo + (f_hi - f_lo) * (0.5 -
                                     0.5 * np.cos(2 * np.pi * tt / period + rng.uniform(0, 6.28)))
    else:  # two-tone hi-lo
        f1 = rng.uniform(700, 960)
        f2 = f1 * rng.uniform(1.25, 1.35)
        half = rng.uniform(0.45, 0.7)
        f0 = np.where(np.floor(tt / half) % 2 == 0, f1, f2)
        f0 = _smooth(f0, int(0.01 * sr))
    amps = [1.0 / k if k % 2 == 1 else 0.0 for k in range(1, 10)]
    return _harmonics(f0, amps, sr, rng)


def engine(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    rate = rng.uniform(12, 30)  # firing rate (Hz): a throb that 10 ms log-mel frames resolve
    walk = np.cumsum(rng.normal(0, 1, 6))
    walk /= np.abs(walk).max() + 1e-9
    drift = np.interp(np.linspace(0, 5, n), np.linspace(0, 5, 6), walk)
    f0 = rate * (1 + 0.1 * drift)
    cutoff = rng.uniform(800, 2000)
    amps = [k**-0.8 / (1 + (k * rate / cutoff)**2) for k in range(1, 100)]
    pulses = _harmonics(f0, amps, sr, rng)
    rumble = signal.sosfilt(_butter_sos(2, 300.0, 0.0, 'lowpass', sr), rng.standard_normal(n))
    rumble *= np.std(pulses) / (np.std(rumble) + 1e-9)
    # gear whine: a tone locked to the rpm (a harmonic of the firing rate between 300 and 900 Hz)
    order = max(1, int(round(rng.uniform(300, 900) / rate)))
    whine = _harmonics(f0 * order, [1.0, 0.3], sr, rng)
    whine *= rng.uniform(0.25, 0.5) * np.std(pulses) / (np.std(whine) + 1e-9)
    phase = 2 * np.pi * np.cumsum(f0 / 2) / sr
    throb = 1 + rng.uniform(0.4, 0.7) * np.sin(phase)
    return (pulses + 0.3 * rumble + whine) * throb


def typewriter(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    rate = rng.uniform(7, 13)
    t = rng.exponential(1 / rate)
    while t < n / sr:
        m = int(rng.uniform(0.004, 0.012) * sr) + int(0.02 * sr)
        click = _band_noise(m, 1500, 6000, sr, rng) * _decay(m, sr, rng.uniform(0.002, 0.004),
                                                             0.0005)
        if rng.random() < 0.3:
            tt = np.arange(m) / sr
            click += 0.5 * np.sin(2 * np.pi * rng.uniform(200, 400) * tt) * np.exp(-tt / 0.008)
        _add(out, int(t * sr), click * rng.uniform(0.6, 1.0))
        t += rng.exponential(1 / rate) + 0.02
    if rng.random() < 0.3:  # the bell at the end of a line
        m = int(0.5 * sr)
        tt = np.arange(m) / sr
        bell = np.sin(2 * np.pi * rng.uniform(2000, 3000) * tt) * np.exp(-tt / 0.15) * 0.3
        _add(out, int(rng.uniform(0.5, 4.0) * sr), bell)
    return out


#: Category -> synthesis function ``(rng, num_samples, sr) -> float64 [num_samples]``.
SOUND_FUNCTIONS: Dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    'guitar': guitar,
    'piano': piano,
    'flute': flute,
    'singer': singer,
    'speaker': speaker,
    'baby': baby,
    'dog': dog,
    'bird': bird,
    'owl': owl,
    'siren': siren,
    'engine': engine,
    'typewriter': typewriter,
}

# ----------------------------------------------------------------------------------------------
# clip level


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS pink (1/f power) noise of ``n`` samples, shaped in the frequency domain."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def synthesize_clip_audio(categories: Sequence[str],
                          rng: np.random.Generator,
                          sr: int = SAMPLE_RATE,
                          duration: float = DURATION_S) -> np.ndarray:
    """Audio of a clip: the mix of the sounding objects' sounds plus room noise.

    Each source is normalised to unit RMS and weighted by a random ±4 dB; the mix is set to an RMS
    of U(-26, -14) dBFS, a pink room noise of U(-62, -48) dBFS is added and peaks are kept below
    0.99.

    Args:
        categories (Sequence[str]): Categories of the sounding objects (at least one).
        rng (np.random.Generator): Source of randomness.
        sr (int): Sample rate, Hz.
        duration (float): Length, seconds.

    Returns:
        np.ndarray: float32 ``[round(sr * duration)]`` in [-1, 1].
    """
    n = int(round(sr * duration))
    mix = np.zeros(n)
    for category in categories:
        src = SOUND_FUNCTIONS[category](rng, n, sr)
        src = src / (np.sqrt(np.mean(src**2)) + 1e-12)
        mix += src * 10**(rng.uniform(-4, 4) / 20)
    target_db = rng.uniform(-26, -14)
    mix *= 10**(target_db / 20) / (np.sqrt(np.mean(mix**2)) + 1e-12)
    mix += pink_noise(n, rng) * 10**(rng.uniform(-62, -48) / 20)
    peak = np.max(np.abs(mix))
    if peak > 0.99:
        mix *= 0.99 / peak
    return mix.astype(np.float32)
