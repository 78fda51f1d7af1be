# Copyright (c) mmavs contributors. All rights reserved.
"""Rasterisation of SynthAVS frames: cluttered background, textured objects, exact label maps.

Images are ``uint8`` RGB ``[H, W, 3]``. An object is drawn by filling its outline (from
:mod:`mmavs.synth.shapes`) on a binary canvas with ``cv2.fillPoly`` (sub-pixel vertex precision),
then painting its texture, computed in the object's own coordinates so it moves, turns and scales
with the object, through that canvas. Objects are painted back to front and a label map records
which object owns each pixel, so a mask is exactly the *visible* part of an object (occlusion
included)
and is aligned with the image pixel for pixel.
"""
import colorsys
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from .catalog import CategoryLook
from .shapes import SHAPES

_SHIFT = 4  # cv2 fixed-point bits for polygon vertices (1/16 px)


@dataclass
class ObjectAppearance:
    """Per-clip appearance of one object (its category's look with jitter drawn once per clip).

    Args:
        shape (str): Shape name.
        colour (tuple): Main RGB colour, floats in [0, 255].
        colour2 (tuple): Second RGB colour of the texture.
        texture (str): Texture name.
        period (float): Texture period in unit (object) coordinates.
        tex_angle (float): Stripe direction, radians.
        phase (float): Texture phase in [0, 1).
    """
    shape: str
    colour: Tuple[float, float, float]
    colour2: Tuple[float, float, float]
    texture: str
    period: float
    tex_angle: float
    phase: float


@dataclass
class ObjectPose:
    """Where an object is in one frame: centre ``(x, y)`` in px, radius in px, angle in radians."""
    x: float
    y: float
    radius: float
    angle: float


def hsv_to_rgb255(hue_deg: float, sat: float, val: float) -> Tuple[float, float, float]:
    """HSV (degrees, [0, 1], [0, 1]) -> RGB floats in [0, 255]."""
    r, g, b = colorsys.hsv_to_rgb((hue_deg % 360.0) / 360.0, float(np.clip(sat, 0, 1)),
                                  float(np.clip(val, 0, 1)))
    return (255.0 * r, 255.0 * g, 255.0 * b)


def sample_appearance(look: CategoryLook, rng: np.random.Generator) -> ObjectAppearance:
    """Draw the per-clip appearance of a category: hue ±12°, saturation/value ±0.1, texture
    period, direction and phase."""
    hue = look.hue + rng.uniform(-12, 12)
    sat = look.saturation + rng.uniform(-0.1, 0.1)
    val = look.value + rng.uniform(-0.1, 0.1)
    colour = hsv_to_rgb255(hue, sat, val)
    if look.second_light:
        colour2 = hsv_to_rgb255(hue, sat * 0.35, min(1.0, val + 0.35))
    else:
        colour2 = hsv_to_rgb255(hue, sat, val * 0.45)
    return ObjectAppearance(
        shape=look.shape,
        colour=colour,
        colour2=colour2,
        texture=look.texture,
        period=rng.uniform(0.35, 0.6),
        tex_angle=rng.uniform(0, np.pi),
        phase=rng.uniform(0, 1))


def render_background(size: int, rng: np.random.Generator) -> np.ndarray:
    """A cluttered, textured background: a muted two-colour gradient, low-frequency blotches and
    18-40 small semi-transparent strokes, rectangles and discs.

    Returns:
        np.ndarray: float32 RGB ``[size, size, 3]`` in [0, 255].
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(theta) * (xx - 0.5) + np.sin(theta) * (yy - 0.5)) + 0.5
    c1, c2 = (
        np.array(
            hsv_to_rgb255(rng.uniform(0, 360), rng.uniform(0.05, 0.35), rng.uniform(0.3, 0.8)))
        for _ in range(2))
    img = c1 * (1 - ramp[..., None]) + c2 * ramp[..., None]
    grid = rng.normal(0, 1, (6, 6, 3)).astype(np.float32)
    blotches = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    img = img + 14.0 * blotches
    canvas = np.ascontiguousarray(img, dtype=np.float32)
    for _ in range(int(rng.integers(18, 41))):
        overlay = canvas.copy()
        colour = hsv_to_rgb255(rng.uniform(0, 360), rng.uniform(0.0, 0.5), rng.uniform(0.2, 0.95))
        x, y = rng.uniform(0, size, 2)
        extent = rng.uniform(0.02, 0.12) * size
        kind = rng.integers(0, 4)
        if kind == 0:
            x2, y2 = x + rng.normal(0, extent * 1.5), y + rng.normal(0, extent * 1.5)
            thick = max(1, int(round(rng.uniform(0.004, 0.015) * size)))
            cv2.line(overlay, (int(x), int(y)), (int(x2), int(y2)), colour, thick, cv2.LINE_AA)
        elif kind == 1:
            w, h = rng.uniform(0.3, 1.0, 2) * extent
            cv2.rectangle(overlay, (int(x - w), int(y - h)), (int(x + w), int(y + h)), colour, -1)
        elif kind == 2:
            cv2.circle(overlay, (int(x), int(y)), max(1, int(extent * 0.6)), colour, -1,
                       cv2.LINE_AA)
        else:
            cv2.circle(overlay, (int(x), int(y)), max(1, int(extent * 0.6)), colour,
                       max(1, int(size / 112)), cv2.LINE_AA)
        alpha = rng.uniform(0.25, 0.6)
        canvas = cv2.addWeighted(overlay, alpha, canvas, 1 - alpha, 0)
    return np.clip(canvas, 0, 255).astype(np.float32)


def _silhouette(shape: str, pose: ObjectPose, size: int) -> np.ndarray:
    """Binary ``[size, size]`` uint8 canvas of the shape at ``pose`` (1 inside)."""
    canvas = np.zeros((size, size), np.uint8)
    cos, sin = np.cos(pose.angle), np.sin(pose.angle)
    rot = np.array([[cos, -sin], [sin, cos]])
    for poly, value in SHAPES[shape]:
        pts = poly @ rot.T * pose.radius + np.array([pose.x, pose.y])
        fixed = np.round(pts * (1 << _SHIFT)).astype(np.int32)
        cv2.fillPoly(canvas, [fixed], int(value), lineType=cv2.LINE_8, shift=_SHIFT)
    return canvas


def _texture(app: ObjectAppearance, pose: ObjectPose, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Texture colours ``[N, 3]`` at pixel centres ``(xs, ys)`` (object coordinates inside)."""
    cos, sin = np.cos(pose.angle), np.sin(pose.angle)
    dx, dy = xs - pose.x, ys - pose.y
    u = (cos * dx + sin * dy) / pose.radius
    v = (-sin * dx + cos * dy) / pose.radius
    if app.texture == 'stripes':
        coord = u * np.cos(app.tex_angle) + v * np.sin(app.tex_angle)
        second = np.sin(2 * np.pi * (coord / app.period + app.phase)) > 0
    elif app.texture == 'dots':
        fu = np.mod(u / app.period + app.phase, 1.0) - 0.5
        fv = np.mod(v / app.period + app.phase, 1.0) - 0.5
        second = fu**2 + fv**2 < 0.3**2
    elif app.texture == 'checker':
        second = (np.floor(u / app.period + app.phase) + np.floor(v / app.period)) % 2 == 1
    else:
        second = np.zeros_like(u, dtype=bool)
    col = np.where(second[:, None], np.array(app.colour2), np.array(app.colour))
    # soft spherical shading with a highlight to the upper left
    shade = 1.0 - 0.22 * np.clip(u**2 + v**2, 0, 1) + 0.12 * np.clip(-(u + v) * 0.5, -1, 1)
    return col * shade[:, None]


def compose_frame(background: np.ndarray, appearances: Sequence[ObjectAppearance],
                  poses: Sequence[ObjectPose]) -> Tuple[np.ndarray, np.ndarray]:
    """Paint objects back to front over the background.

    Args:
        background (np.ndarray): float32 RGB ``[S, S, 3]``.
        appearances (Sequence[ObjectAppearance]): Objects in painting order (first = farthest).
        poses (Sequence[ObjectPose]): Their poses in this frame.

    Returns:
        tuple: ``img`` float32 RGB ``[S, S, 3]`` and ``labels`` int16 ``[S, S]``: index of the
        object owning each pixel, -1 for background.
    """
    size = background.shape[0]
    img = background.copy()
    labels = np.full((size, size), -1, np.int16)
    for idx, (app, pose) in enumerate(zip(appearances, poses)):
        inside = _silhouette(app.shape, pose, size).astype(bool)
        ys, xs = np.nonzero(inside)
        if len(xs) == 0:
            continue
        img[ys, xs] = _texture(app, pose, xs + 0.5, ys + 0.5)
        labels[ys, xs] = idx
    return img, labels


def finish_frame(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Camera effects: slight blur, global gain jitter (±4 %) and sensor noise (σ 1.5-4 levels).

    Returns:
        np.ndarray: uint8 RGB ``[S, S, 3]``.
    """
    out = cv2.GaussianBlur(img.astype(np.float32), (3, 3), 0.6)
    noise = rng.standard_normal(out.shape, dtype=np.float32) * np.float32(rng.uniform(1.5, 4.0))
    out = out * np.float32(rng.uniform(0.96, 1.04)) + noise
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def masks_from_labels(labels: np.ndarray, sounding: List[int]) -> np.ndarray:
    """0/255 uint8 mask ``[S, S]`` of the pixels owned by the sounding objects."""
    return np.where(np.isin(labels, sounding), 255, 0).astype(np.uint8)
