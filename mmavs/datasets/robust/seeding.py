# Copyright (c) mmavs contributors. All rights reserved.
"""Deterministic randomness of AVSBench-Robust: every random choice is a function of its key.

Every choice (a negative's frame, its off-screen donor, its noise seed) is keyed by explicit
parts hashed with SHA-256 (:func:`stable_hash`), and noise samples come from the PCG64 *bit
generator* stream (stable across NumPy versions by NEP 19, unlike ``Generator`` methods),
converted to uniform / Gaussian numbers here. Hence manifests and training streams are identical
on every machine, in every process and dataloader worker, whatever order samples are drawn in.
"""
import hashlib

import numpy as np


def stable_hash(*parts) -> int:
    """A 64-bit integer from the SHA-256 of ``parts`` (their ``str``, joined by ``\\x1f``).

    The same parts give the same number on every machine and Python process (unlike ``hash``).
    """
    text = '\x1f'.join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode('utf-8')).digest()[:8], 'little')


def draw_index(num: int, *parts) -> int:
    """A deterministic index in ``[0, num)`` keyed by ``parts`` (modulo bias < 2**-50)."""
    if num <= 0:
        raise ValueError(f'cannot draw an index from an empty range (num={num})')
    return stable_hash(*parts) % num


def derive_seed(*parts) -> int:
    """A 31-bit seed keyed by ``parts``, e.g. ``derive_seed(42, 'noise', 'test', video_id)``."""
    return stable_hash(*parts) % (2**31)


def uniform01(seed: int, num: int) -> np.ndarray:
    """``num`` float64 numbers uniform in (0, 1), from the PCG64 bit stream of ``seed``."""
    raw = np.random.PCG64(int(seed)).random_raw(num)
    # Top 53 bits -> [0, 1); the half-step offset keeps 0 out so logs stay finite.
    return ((raw >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 2**53)


def standard_normal(seed: int, num: int) -> np.ndarray:
    """``num`` float64 N(0, 1) numbers from ``seed`` (Box-Muller on :func:`uniform01`).

    Args:
        seed (int): Non-negative seed.
        num (int): How many numbers.

    Returns:
        np.ndarray: float64 ``[num]``.
    """
    half = (num + 1) // 2
    uniform = uniform01(seed, 2 * half)
    radius = np.sqrt(-2.0 * np.log(uniform[:half]))
    angle = 2.0 * np.pi * uniform[half:]
    return np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])[:num]
