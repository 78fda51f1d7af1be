# Copyright (c) mmavs contributors. All rights reserved.
"""Readable overlays: fill + contour, the gate decision in the header, audio panels."""
import numpy as np
import pytest

from mmavs.visualization.overlays import (GATED_COLOR, KEPT_COLOR, PRED_COLOR, draw_mask, gate_text,
                                          log_mel_image, render_grid, render_overlay,
                                          waveform_image)


def _frame(value=100, size=64):
    return np.full((size, size, 3), value, np.uint8)


def _square(size=64, lo=16, hi=48):
    mask = np.zeros((size, size), np.uint8)
    mask[lo:hi, lo:hi] = 1
    return mask


def _has_color(image, color, tol=30):
    return (np.abs(image.astype(int) - np.asarray(color)).max(axis=2) < tol).any()


def test_mask_is_filled_translucently_and_outlined():
    out = draw_mask(_frame(), _square(), alpha=0.4, thickness=2)
    inside, outside = out[32, 32], out[4, 4]
    expected = np.round(0.6 * 100 + 0.4 * np.asarray(PRED_COLOR)).astype(int)
    assert np.abs(inside.astype(int) - expected).max() <= 1  # the frame shows through
    assert (outside == 100).all()
    assert np.abs(out[16, 32].astype(int) - np.asarray(PRED_COLOR)).max() <= 10  # contour
    assert (draw_mask(_frame(), None) == 100).all()


def test_gate_decision_in_the_header():
    assert gate_text(0.3, 0.5)[0].startswith('similarity 0.30 < 0.50: GATED')
    assert gate_text(0.7, 0.5) == ('similarity 0.70 >= 0.50: kept', KEPT_COLOR)
    assert gate_text(0.7, None)[0] == 'similarity 0.70 | gate off'
    assert gate_text(None, None)[0] == 'no similarity head'
    # the model's recorded decision wins over the rule
    assert gate_text(0.7, 0.5, gated=True)[1] == GATED_COLOR
    gated = render_overlay(_frame(), None, similarity=0.2, gate_thr=0.5, condition='noise')
    kept = render_overlay(_frame(), _square(), similarity=0.9, gate_thr=0.5, condition='positive')
    assert gated.shape[1] == 320 and gated.shape[0] > 320  # enlarged, header above
    header_rows = gated.shape[0] - 320
    assert _has_color(gated[:header_rows], GATED_COLOR)
    assert not _has_color(gated[:header_rows], KEPT_COLOR)
    assert _has_color(kept[:header_rows], KEPT_COLOR)


def test_log_mel_and_waveform_panels():
    silence = log_mel_image(np.full((96, 64), np.log(0.01)), 64)
    assert silence.shape == (64, 96, 3) and silence.max() < 10  # silence is black
    loud = np.full((96, 64), np.log(0.01))
    loud[:, :8] = 3.0  # energy in the lowest bins only
    img = log_mel_image(loud, 64)
    assert img[-1].mean() > 100 and img[0].mean() < 10  # low frequencies at the bottom
    clip = log_mel_image(np.zeros((5, 96, 64)), 32)
    assert clip.shape == (32, 240, 3)
    with pytest.raises(ValueError, match='log-mel'):
        log_mel_image(np.zeros(5), 32)
    loud_half = 0.9 * np.where(np.arange(800) % 2, 1.0, -1.0)  # +-0.9: a tall envelope
    wave = waveform_image(np.concatenate([np.zeros(800), loud_half]), 100, 41)
    left, right = wave[:, 10], wave[:, 90]
    assert (left != left[0]).any(axis=1).sum() <= 1  # silence: the zero line only
    assert (right.astype(int) != wave[0, 0].astype(int)).any(axis=1).sum() > 30


def test_grid_has_frame_mask_and_log_mel():
    grid = render_grid(_frame(), _square(), np.zeros((96, 64)), similarity=0.8, gate_thr=None)
    single = render_grid(_frame(), _square(), None)
    assert grid.shape[1] > single.shape[1] > 2 * 256
    with pytest.raises(TypeError, match='unexpected'):
        render_grid(_frame(), _square(), None, colour='red')
