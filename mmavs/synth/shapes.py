# Copyright (c) mmavs contributors. All rights reserved.
"""Outlines of the SynthAVS object shapes, as polygons in unit coordinates.

A shape is a list of ``(polygon, value)`` fill operations applied in order on a binary canvas
(``value`` 1 fills, 0 cuts a hole), so shapes with holes (ring) or bites (crescent) need no special
case. Polygons are ``[K, 2]`` float arrays of ``(u, v)`` points inside the unit disc, ``v`` pointing
down (image convention); curves are sampled finely enough to look smooth at 224 px.
"""
from typing import Dict, List, Tuple

import numpy as np

FillOps = List[Tuple[np.ndarray, int]]


def _circle(radius: float = 1.0,
            cx: float = 0.0,
            cy: float = 0.0,
            sy: float = 1.0,
            n: int = 72) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + radius * np.cos(t), cy + sy * radius * np.sin(t)], axis=1)


def _regular(n: int, radius: float = 1.0, start: float = -np.pi / 2) -> np.ndarray:
    t = start + np.arange(n) * 2 * np.pi / n
    return radius * np.stack([np.cos(t), np.sin(t)], axis=1)


def _star(points: int = 5, outer: float = 1.0, inner: float = 0.45) -> np.ndarray:
    t = -np.pi / 2 + np.arange(2 * points) * np.pi / points
    r = np.where(np.arange(2 * points) % 2 == 0, outer, inner)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _cross(arm: float = 0.32, length: float = 0.95) -> np.ndarray:
    a, b = arm, length
    return np.array([[-a, -b], [a, -b], [a, -a], [b, -a], [b, a], [a, a], [a, b], [-a, b], [-a, a],
                     [-b, a], [-b, -a], [-a, -a]])


def _heart(n: int = 96) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = 16 * np.sin(t)**3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    pts = np.stack([x, y + 2.5], axis=1)
    return pts / np.abs(pts).max()


def _build_shapes() -> Dict[str, FillOps]:
    return {
        'circle': [(_circle(0.95), 1)],
        'ellipse': [(_circle(1.0, sy=0.62), 1)],
        'ring': [(_circle(1.0), 1), (_circle(0.5), 0)],
        'square': [(np.array([[-0.78, -0.78], [0.78, -0.78], [0.78, 0.78], [-0.78, 0.78]]), 1)],
        'diamond': [(np.array([[0.0, -1.0], [0.8, 0.0], [0.0, 1.0], [-0.8, 0.0]]), 1)],
        'triangle': [(_regular(3), 1)],
        'pentagon': [(_regular(5), 1)],
        'hexagon': [(_regular(6, start=0.0), 1)],
        'star': [(_star(), 1)],
        'cross': [(_cross(), 1)],
        'crescent': [(_circle(1.0), 1), (_circle(0.82, cx=0.45, cy=-0.1), 0)],
        'heart': [(_heart(), 1)],
    }


#: Shape name -> fill operations in unit coordinates.
SHAPES: Dict[str, FillOps] = _build_shapes()
