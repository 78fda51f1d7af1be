# Copyright (c) mmavs contributors. All rights reserved.
"""Overlays of one prediction that a person can read at a glance (numpy + OpenCV, no pyplot).

:func:`render_overlay` draws, above the frame, a header with the audio condition (and whether
the pair is sounding), the similarity probability and the gate (its threshold and decision);
on the frame the predicted mask as a translucent fill with a solid contour, and the
ground-truth outline when given. :func:`render_grid` puts the overlay, the bare mask and the
log-mel example the frame heard side by side (``frame | mask | log-mel``), under one header.
:func:`log_mel_image` and :func:`waveform_image` draw the audio for these panels and for
``tools/analysis_tools/browse_dataset.py``; :func:`similarity_strip` draws the similarity over
time under each frame of ``demo/video_demo.py``.

Every function takes and returns RGB ``uint8`` arrays ``[H, W, 3]``. Small frames (SynthAVS:
64-224 px) are enlarged to at least ``min_width`` pixels first, so that the header text and the
contour stay legible.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from ..audio.log_mel import LOG_OFFSET

Color = Tuple[int, int, int]
#: Prediction fill and contour (RGB).
PRED_COLOR: Color = (255, 40, 40)
#: Ground-truth outline (RGB).
GT_COLOR: Color = (40, 230, 40)
#: Header background and text (RGB).
HEADER_BG: Color = (24, 24, 24)
HEADER_FG: Color = (240, 240, 240)
#: Colours of the gate decision in the header.
KEPT_COLOR: Color = (90, 220, 90)
GATED_COLOR: Color = (255, 90, 90)
#: Lowest value of a VGGish log-mel bin: ``log(0 + LOG_OFFSET)`` (digital silence).
LOG_MEL_FLOOR = float(np.log(LOG_OFFSET))
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _rgb(image: np.ndarray, what: str = 'image') -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'expected an RGB {what} [H, W, 3], found shape {image.shape}')
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def _binary(mask: Optional[np.ndarray], shape: Tuple[int, int]) -> Optional[np.ndarray]:
    """``mask != 0`` as uint8 ``[H, W]`` at ``shape`` (nearest resize), or None."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.ndim != 2:
        raise ValueError(f'expected a mask [H, W] (or [1, H, W]), found shape {mask.shape}')
    mask = (mask != 0).astype(np.uint8)
    if mask.shape != tuple(shape):
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return mask


def enlarge(image: np.ndarray, min_width: int) -> np.ndarray:
    """Scale ``image`` up (bilinear) so that its width is at least ``min_width``."""
    height, width = image.shape[:2]
    if width >= min_width:
        return image
    scale = min_width / width
    size = (int(round(width * scale)), int(round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def draw_mask(image: np.ndarray,
              mask: Optional[np.ndarray],
              gt: Optional[np.ndarray] = None,
              color: Color = PRED_COLOR,
              gt_color: Color = GT_COLOR,
              alpha: float = 0.4,
              thickness: int = 2) -> np.ndarray:
    """Fill the predicted mask translucently, trace its contour and the ground-truth outline.

    Args:
        image (np.ndarray): RGB uint8 ``[H, W, 3]``.
        mask (np.ndarray, optional): Predicted mask ``[h, w]`` (nonzero = sounding), resized
            (nearest) to the image.
        gt (np.ndarray, optional): Ground-truth mask ``[h, w]``, drawn as an outline.
        color (tuple): RGB of the fill and contour. Defaults to red.
        gt_color (tuple): RGB of the ground-truth outline. Defaults to green.
        alpha (float): Opacity of the fill in [0, 1]. Defaults to 0.4.
        thickness (int): Contour width in pixels. Defaults to 2.

    Returns:
        np.ndarray: RGB uint8 ``[H, W, 3]`` (a new array).
    """
    out = _rgb(image).copy()
    size = out.shape[:2]
    pred = _binary(mask, size)
    if pred is not None and pred.any():
        fill = out.astype(np.float32)
        sel = pred.astype(bool)
        fill[sel] = (1 - alpha) * fill[sel] + alpha * np.asarray(color, np.float32)
        out = np.ascontiguousarray(fill.round().clip(0, 255).astype(np.uint8))
        contours, _ = cv2.findContours(pred, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, color, thickness, lineType=cv2.LINE_AA)
    target = _binary(gt, size)
    if target is not None and target.any():
        contours, _ = cv2.findContours(target, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, gt_color, thickness, lineType=cv2.LINE_AA)
    return out


def gate_text(similarity: Optional[float],
              gate_thr: Optional[float],
              gated: Optional[bool] = None) -> Tuple[str, Color]:
    """The header's similarity / gate part and its colour.

    ``gated`` defaults to ``similarity < gate_thr`` (the model's rule).
    """
    if similarity is None:
        return 'no similarity head', HEADER_FG
    text = f'similarity {float(similarity):.2f}'
    if gate_thr is None:
        return text + ' | gate off', HEADER_FG
    if gated is None:
        gated = float(similarity) < float(gate_thr)
    if gated:
        return text + f' < {float(gate_thr):.2f}: GATED (mask emptied)', GATED_COLOR
    return text + f' >= {float(gate_thr):.2f}: kept', KEPT_COLOR


def header(width: int,
           lines: Sequence[Tuple[str, Color]],
           scale: Optional[float] = None) -> np.ndarray:
    """A dark band ``[h, width, 3]`` with one text line per ``(text, RGB colour)``."""
    scale = scale or float(np.clip(width / 640, 0.4, 0.8))
    thick = 1 if scale < 0.6 else 2
    line_h = int(round(32 * scale)) + 4
    band = np.empty((line_h * len(lines) + 6, width, 3), np.uint8)
    band[:] = HEADER_BG
    for i, (text, color) in enumerate(lines):
        # shrink a line that does not fit
        s = scale
        while s > 0.3 and cv2.getTextSize(text, _FONT, s, thick)[0][0] > width - 12:
            s -= 0.05
        baseline_y = 4 + line_h * (i + 1) - int(round(9 * scale))
        cv2.putText(band, text, (6, baseline_y), _FONT, s, color, thick, cv2.LINE_AA)
    return band


def condition_text(condition: Optional[str], is_sounding: Optional[int] = None) -> str:
    """``'audio: offscreen (not sounding)'``."""
    text = f'audio: {condition or "unknown"}'
    if is_sounding is not None:
        text += ' (sounding)' if int(is_sounding) else ' (not sounding)'
    return text


def render_overlay(image: np.ndarray,
                   mask: Optional[np.ndarray],
                   similarity: Optional[float] = None,
                   gate_thr: Optional[float] = None,
                   gated: Optional[bool] = None,
                   condition: Optional[str] = None,
                   is_sounding: Optional[int] = None,
                   gt: Optional[np.ndarray] = None,
                   title: Optional[str] = None,
                   min_width: int = 320) -> np.ndarray:
    """One frame with its mask (fill + contour) under a header that explains the decision.

    Args:
        image (np.ndarray): RGB uint8 frame ``[H, W, 3]``.
        mask (np.ndarray, optional): Predicted mask ``[h, w]`` (as output, i.e. after gating).
        similarity (float, optional): Audio-visual similarity probability in [0, 1].
        gate_thr (float, optional): Gate threshold; None: the model does not gate.
        gated (bool, optional): The model's decision (``metainfo['gated']``); default
            ``similarity < gate_thr``.
        condition (str, optional): Audio condition (``positive``, ``silence``, ...).
        is_sounding (int, optional): 1 when the frame's object makes the sound.
        gt (np.ndarray, optional): Ground-truth mask, drawn as a green outline.
        title (str, optional): First header line (e.g. ``'<video> #<frame>'``).
        min_width (int): The frame is enlarged to at least this width. Defaults to 320.

    Returns:
        np.ndarray: RGB uint8 ``[header + H', W', 3]``.
    """
    frame = enlarge(_rgb(image, 'frame'), min_width)
    drawn = draw_mask(frame, mask, gt, thickness=max(2, frame.shape[1] // 160))
    lines = _header_lines(title, condition, is_sounding, mask, similarity, gate_thr, gated)
    return np.concatenate([header(drawn.shape[1], lines), drawn], axis=0)


def _header_lines(title=None,
                  condition=None,
                  is_sounding=None,
                  mask=None,
                  similarity=None,
                  gate_thr=None,
                  gated=None) -> list:
    lines = []
    if title:
        lines.append((str(title), HEADER_FG))
    area = 0.0 if mask is None else float((np.asarray(mask) != 0).mean())
    lines.append((condition_text(condition, is_sounding) + f' | mask {100 * area:.1f}%', HEADER_FG))
    lines.append(gate_text(similarity, gate_thr, gated))
    return lines


def log_mel_image(log_mel: np.ndarray,
                  height: int,
                  width: Optional[int] = None,
                  cmap: str = 'magma') -> np.ndarray:
    """A log-mel spectrogram as an RGB picture: time left to right, low frequencies at the bottom.

    Args:
        log_mel (np.ndarray): ``[T, 64]`` (one example: ``[96, 64]``) or ``[E, 96, 64]``
            (examples side by side) of ``log(mel + 0.01)`` values.
        height (int): Picture height in pixels.
        width (int, optional): Picture width; default ``height * T / 64`` (square bins).
        cmap (str): Matplotlib colour map. Defaults to ``'magma'``.

    Returns:
        np.ndarray: RGB uint8 ``[height, width, 3]``. Colours span ``[log(0.01), max(log(0.01)
        + 1, max value)]``, so silence is black whatever the loudest clip.
    """
    from matplotlib import colormaps
    values = np.asarray(log_mel, dtype=np.float32)
    if values.ndim == 3:
        values = values.reshape(-1, values.shape[-1])
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f'expected a log-mel [T, bins] or [E, T, bins], found shape '
                         f'{np.shape(log_mel)}')
    top = max(LOG_MEL_FLOOR + 1.0, float(values.max()))
    norm = (values.T[::-1] - LOG_MEL_FLOOR) / (top - LOG_MEL_FLOOR)  # [bins, T], low at bottom
    rgb = (colormaps[cmap](np.clip(norm, 0, 1))[..., :3] * 255).astype(np.uint8)
    width = width or max(int(round(height * values.shape[0] / values.shape[1])), 1)
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_NEAREST)


def waveform_image(waveform: np.ndarray, width: int, height: int,
                   color: Color = (80, 170, 255)) -> np.ndarray:
    """A waveform as its per-column min/max envelope on a dark band, amplitude axis ``[-1, 1]``.

    Args:
        waveform (np.ndarray): Mono samples ``[T]`` in [-1, 1].
        width (int): Picture width (pixel columns).
        height (int): Picture height.
        color (tuple): RGB of the envelope.

    Returns:
        np.ndarray: RGB uint8 ``[height, width, 3]``.
    """
    wave = np.asarray(waveform, dtype=np.float32).reshape(-1)
    out = np.empty((height, width, 3), np.uint8)
    out[:] = HEADER_BG
    mid = height // 2
    out[mid] = (90, 90, 90)
    if wave.size == 0:
        return out
    edges = np.linspace(0, wave.size, width + 1).astype(np.int64)
    for x in range(width):
        chunk = wave[edges[x]:max(edges[x + 1], edges[x] + 1)]
        lo, hi = float(np.clip(chunk.min(), -1, 1)), float(np.clip(chunk.max(), -1, 1))
        y0 = int(round(mid - hi * (mid - 1)))
        y1 = int(round(mid - lo * (mid - 1)))
        out[y0:y1 + 1, x] = color
    return out


def label_panel(panel: np.ndarray, text: str) -> np.ndarray:
    """A panel with a one-line caption band above it."""
    return np.concatenate([header(panel.shape[1], [(text, HEADER_FG)], scale=0.45), panel], axis=0)


def hstack(panels: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Panels side by side, top-aligned, on a dark background with ``gap`` pixels between."""
    height = max(p.shape[0] for p in panels)
    width = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    out = np.empty((height, width, 3), np.uint8)
    out[:] = HEADER_BG
    x = 0
    for p in panels:
        out[:p.shape[0], x:x + p.shape[1]] = p
        x += p.shape[1] + gap
    return out


def render_grid(image: np.ndarray,
                mask: Optional[np.ndarray],
                log_mel: Optional[np.ndarray] = None,
                min_width: int = 256,
                **info) -> np.ndarray:
    """``frame + mask | mask | log-mel`` side by side under one header.

    Args:
        image (np.ndarray): RGB uint8 frame ``[H, W, 3]``.
        mask (np.ndarray, optional): Predicted mask ``[h, w]``.
        log_mel (np.ndarray, optional): The log-mel the frame heard (``[96, 64]``, or
            ``[E, 96, 64]`` for a clip-level model); the panel is left out when None.
        min_width (int): Width of the frame panels. Defaults to 256.
        **info: ``similarity``, ``gate_thr``, ``gated``, ``condition``, ``is_sounding``,
            ``gt``, ``title`` as in :func:`render_overlay`.

    Returns:
        np.ndarray: RGB uint8 ``[h, w, 3]``.
    """
    frame = enlarge(_rgb(image, 'frame'), min_width)
    gt = info.get('gt')
    overlay = draw_mask(frame, mask, gt, thickness=max(2, frame.shape[1] // 160))
    binary = _binary(mask, frame.shape[:2])
    mask_panel = np.zeros_like(frame) if binary is None else np.repeat(
        binary[..., None] * 255, 3, axis=2).astype(np.uint8)
    panels = [label_panel(overlay, 'frame + mask'), label_panel(mask_panel, 'mask')]
    if log_mel is not None:
        height = frame.shape[0]
        frames = int(np.prod(np.shape(log_mel)[:-1]))
        natural = int(round(height * frames / np.shape(log_mel)[-1]))
        mel = log_mel_image(log_mel, height, width=min(natural, 2 * height))
        panels.append(label_panel(mel, 'log-mel heard (time ->)'))
    body = hstack(panels)
    unknown = set(info) - {
        'similarity', 'gate_thr', 'gated', 'condition', 'is_sounding', 'gt', 'title'
    }
    if unknown:
        raise TypeError(f'render_grid: unexpected arguments {sorted(unknown)}')
    lines = _header_lines(
        info.get('title'), info.get('condition'), info.get('is_sounding'), mask,
        info.get('similarity'), info.get('gate_thr'), info.get('gated'))
    return np.concatenate([header(body.shape[1], lines), body], axis=0)


def similarity_strip(times: Sequence[float],
                     similarity: Sequence[float],
                     current: int,
                     width: int,
                     height: int = 96,
                     gate_thr: Optional[float] = None,
                     duration: Optional[float] = None) -> np.ndarray:
    """The similarity over time, the gate threshold and a cursor at frame ``current``.

    Args:
        times (sequence of float): Frame times in seconds.
        similarity (sequence of float): Similarity probability of each frame (NaN: none).
        current (int): Index of the frame the cursor marks; the curve up to it is bright, the
            rest faint.
        width (int): Strip width in pixels.
        height (int): Strip height in pixels. Defaults to 96.
        gate_thr (float, optional): Threshold drawn as a dashed line.
        duration (float, optional): Time axis length; default the last time (at least 1 s).

    Returns:
        np.ndarray: RGB uint8 ``[height, width, 3]``.
    """
    out = np.empty((height, width, 3), np.uint8)
    out[:] = HEADER_BG
    top, bottom, left = 16, height - 6, 4
    span = max(float(duration or (max(times) if len(times) else 1.0)), 1e-6)

    def point(t, s):
        x = left + (width - 2 * left) * min(max(t / span, 0.0), 1.0)
        y = bottom - (bottom - top) * min(max(s, 0.0), 1.0)
        return int(round(x)), int(round(y))

    for level in (0.0, 1.0):
        cv2.line(out, point(0, level), point(span, level), (70, 70, 70), 1)
    if gate_thr is not None:
        x0, y = point(0, gate_thr)
        x1 = point(span, gate_thr)[0]
        for x in range(x0, x1, 10):
            cv2.line(out, (x, y), (min(x + 5, x1), y), GATED_COLOR, 1)
    pts = [point(t, s) for t, s in zip(times, similarity) if s == s]
    if len(pts) > 1:
        cut = sum(1 for t, s in zip(times[:current + 1], similarity[:current + 1]) if s == s)
        cv2.polylines(out, [np.asarray(pts, np.int32)], False, (110, 110, 110), 1, cv2.LINE_AA)
        if cut > 1:
            cv2.polylines(out, [np.asarray(pts[:cut], np.int32)], False, (255, 210, 80), 2,
                          cv2.LINE_AA)
    if 0 <= current < len(times):
        x = point(times[current], 0)[0]
        cv2.line(out, (x, top - 2), (x, bottom), HEADER_FG, 1)
    label = 'similarity'
    if 0 <= current < len(similarity) and similarity[current] == similarity[current]:
        label += f' {similarity[current]:.2f} at {times[current]:.1f} s'
    if gate_thr is not None:
        label += f' | gate {gate_thr:.2f} (- -)'
    cv2.putText(out, label, (6, 12), _FONT, 0.38, HEADER_FG, 1, cv2.LINE_AA)
    return out
