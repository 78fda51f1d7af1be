# Copyright (c) mmavs contributors. All rights reserved.
"""Signal levels in dB FS (0 dB FS = RMS 1.0, the RMS of a full-scale square wave)."""
import numpy as np


def dbfs_to_rms(dbfs: float) -> float:
    """RMS amplitude of a level in dB FS: ``10 ** (dbfs / 20)``."""
    return float(10.0**(float(dbfs) / 20.0))


def rms_dbfs(waveform: np.ndarray) -> float:
    """Level of a waveform in dB FS RMS (``-inf`` for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 0 else float('-inf')


def is_silent(waveform: np.ndarray, threshold_dbfs: float = -90.0) -> bool:
    """Whether a waveform's RMS is below ``threshold_dbfs`` (dB FS); an empty one is silent."""
    wave = np.asarray(waveform)
    return wave.size == 0 or rms_dbfs(wave) <= threshold_dbfs
