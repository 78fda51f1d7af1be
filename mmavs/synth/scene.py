# Copyright (c) mmavs contributors. All rights reserved.
"""Scene composition of SynthAVS clips: which objects, where, how they move, which ones sound.

The visual bias of AVSBench is built in on purpose (``docs/data.md``, "Scenes and the visual bias"):

* **S4-like** (one sounding object): the sounding object is the salient one (a close-up: radius
  0.42-0.52 of the frame, near the centre, covering about 43 % of the frame like the large
  sounding objects of AVSBench S4) in every clip without distractors and in 96 % of the others
  (about 98 % overall); 0-2 silent distractors of other categories are smaller and off-centre.
  Otherwise the sounding object is small and off-centre and a distractor takes the salient role. A
  model that ignores the audio and segments "the big central thing" is therefore right most of the
  time, as on the real data.
* **Distractors never match an off-screen donor** (S4): they are drawn from the categories whose
  coarse group may *not* donate off-screen audio to the clip's category (its own group and the
  excluded ones, e.g. a singer beside a guitar, never a dog; :func:`distractor_pool`), as on the
  real data, where the donor rule of AVSBench-Robust assumes that a sound of another group has no
  source in the frame. Were a dog visible beside the guitar, a dog's bark donated as the
  off-screen negative would have a visible source while its ground truth is empty: a label that
  a model which truly listens must get wrong.
* **MS3-like**: 2-3 objects of distinct categories, 1-2 of them sounding; sounding objects are
  drawn larger on average than the silent ones. The audio is the mix of the sounding objects.

Every object drifts, grows/shrinks and turns across the 5 frames (one per second). Masks are the
visible pixels of the sounding objects only.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from ..datasets.robust.donors import is_valid_donor
from ..utils.constants import FRAMES_PER_CLIP
from .catalog import CATEGORIES, CATEGORY_LOOKS
from .render import (ObjectPose, compose_frame, finish_frame, masks_from_labels, render_background,
                     sample_appearance)
from .sounds import synthesize_clip_audio

#: Probability that the S4 sounding object is the salient one.
S4_SALIENT_PROB = 0.96


@dataclass
class ObjectTrack:
    """One object of a clip.

    Args:
        category (str): SynthAVS category.
        sounding (bool): Whether it is heard in the clip's audio.
        poses (list[ObjectPose]): Its pose in each frame.
    """
    category: str
    sounding: bool
    poses: List[ObjectPose]


@dataclass
class Clip:
    """A rendered clip.

    Args:
        frames (np.ndarray): uint8 RGB ``[5, S, S, 3]``.
        masks (np.ndarray): uint8 0/255 ``[5, S, S]`` (sounding objects).
        audio (np.ndarray): float32 ``[80000]`` waveform at 16 kHz, 5 s.
        objects (list[ObjectTrack]): Objects in painting order.
    """
    frames: np.ndarray
    masks: np.ndarray
    audio: np.ndarray
    objects: List[ObjectTrack]


def _track(rng: np.random.Generator, size: int, radius: float, centre: Sequence[float],
           num_frames: int) -> List[ObjectPose]:
    """Linear drift (≤ 4 % of the frame per second), scale change (±5 %/s) and rotation.

    ``radius`` and ``centre`` are the pose at an *anchor* frame drawn uniformly from the clip's
    frames, not at the first frame: motion runs both ways from the anchor. In a real video the
    first frame is an arbitrary moment, so its poses are distributed like those of any other
    frame; anchored at frame 1 (generator <= 1.3) the only annotated training frame of S4 showed
    the narrowest spread of angles and sizes, and test frames 4-5 turned objects further than any
    training frame. With a uniform anchor and symmetric rates the first and the last frame have
    the same pose distribution and the inner frames a narrower one inside it.
    """
    velocity = rng.normal(0, 0.02 * size, 2)
    growth = rng.uniform(0.95, 1.05)
    spin = rng.uniform(-0.2, 0.2)
    angle0 = rng.uniform(-0.5, 0.5)
    anchor = int(rng.integers(num_frames))
    poses = []
    for f in range(num_frames):
        t = f - anchor
        r = radius * growth**t
        x = float(np.clip(centre[0] + velocity[0] * t, 0.3 * r, size - 0.3 * r))
        y = float(np.clip(centre[1] + velocity[1] * t, 0.3 * r, size - 0.3 * r))
        poses.append(ObjectPose(x=x, y=y, radius=r, angle=angle0 + spin * t))
    return poses


def _place(rng: np.random.Generator, size: int, radius: float, central: bool,
           placed: Sequence[tuple]) -> tuple:
    """Pick a centre: near the middle (``central``) or anywhere, avoiding heavy overlap."""
    best, best_gap = None, -np.inf
    for _ in range(40):
        if central:
            c = size / 2 + rng.uniform(-0.12, 0.12, 2) * size
        else:
            c = rng.uniform(radius * 0.8, size - radius * 0.8, 2)
        gap = min([np.hypot(*(c - p)) - 0.85 * (radius + pr) for p, pr in placed], default=0.0)
        if gap >= 0:
            return tuple(c)
        if gap > best_gap:
            best, best_gap = c, gap
    return tuple(best)


def _other_categories(rng: np.random.Generator, exclude: Sequence[str], k: int) -> List[str]:
    pool = [c for c in CATEGORIES if c not in exclude]
    return list(rng.choice(pool, size=k, replace=False))


def distractor_pool(category: str) -> List[str]:
    """Categories that may appear as silent distractors beside a sounding ``category`` (S4).

    Those that can never donate off-screen audio to ``category`` under the AVSBench-Robust group
    rule (:func:`mmavs.datasets.robust.donors.is_valid_donor`): the other categories of its coarse
    group and of the excluded groups (music: music, human; human: human, music; animal: animal,
    human; device: device).
    """
    return [c for c in CATEGORIES if c != category and not is_valid_donor(category, c)]


def _distractor_categories(rng: np.random.Generator, category: str, k: int) -> List[str]:
    return list(rng.choice(distractor_pool(category), size=k, replace=False))


def sample_s4_objects(category: str,
                      rng: np.random.Generator,
                      size: int,
                      num_frames: int = FRAMES_PER_CLIP) -> List[ObjectTrack]:
    """Objects of an S4-like clip whose sounding object has ``category`` (painting order)."""
    n_distractors = int(rng.choice([0, 1, 2], p=[0.4, 0.4, 0.2]))
    salient_is_sounding = rng.random() < S4_SALIENT_PROB or n_distractors == 0
    specs = []  # (category, sounding, radius, central)
    big = rng.uniform(0.42, 0.52) * size
    small = rng.uniform(0.11, 0.18) * size
    if salient_is_sounding:
        specs.append((category, True, big, rng.random() < 0.85))
        for other in _distractor_categories(rng, category, n_distractors):
            specs.append((other, False, rng.uniform(0.09, 0.17) * size, False))
    else:
        others = _distractor_categories(rng, category, n_distractors)
        specs.append((others[0], False, big, True))
        specs.append((category, True, small, False))
        for other in others[1:]:
            specs.append((other, False, rng.uniform(0.09, 0.17) * size, False))
    return _tracks(specs, rng, size, num_frames)


def sample_ms3_objects(rng: np.random.Generator,
                       size: int,
                       num_frames: int = FRAMES_PER_CLIP) -> List[ObjectTrack]:
    """Objects of an MS3-like clip: 2-3 distinct categories, 1-2 of them sounding."""
    n_objects = int(rng.integers(2, 4))
    n_sounding = min(int(rng.integers(1, 3)), n_objects)
    cats = _other_categories(rng, [], n_objects)
    specs = []
    for i, cat in enumerate(cats):
        sounding = i < n_sounding
        radius = rng.uniform(0.16, 0.26) * size if sounding else rng.uniform(0.10, 0.20) * size
        specs.append((cat, sounding, radius, sounding and n_sounding == 1))
    return _tracks(specs, rng, size, num_frames)


def _tracks(specs, rng, size, num_frames) -> List[ObjectTrack]:
    placed, tracks = [], []
    for cat, sounding, radius, central in specs:
        centre = _place(rng, size, radius, central, placed)
        placed.append((np.asarray(centre), radius))
        tracks.append(
            ObjectTrack(cat, bool(sounding), _track(rng, size, radius, centre, num_frames)))
    # large objects behind small ones, as seen from a camera
    order = sorted(range(len(tracks)), key=lambda i: -tracks[i].poses[0].radius)
    return [tracks[i] for i in order]


def render_clip(objects: List[ObjectTrack],
                rng: np.random.Generator,
                size: int,
                mask_frames: Optional[Sequence[int]] = None) -> Clip:
    """Render frames, masks and audio of a clip.

    Args:
        objects (list[ObjectTrack]): From :func:`sample_s4_objects` / :func:`sample_ms3_objects`.
        rng (np.random.Generator): Source of randomness.
        size (int): Frame side, px.
        mask_frames (Sequence[int], optional): Frames (0-based) whose masks are computed; the
            others are all-zero arrays. Defaults to all.
    """
    num_frames = len(objects[0].poses)
    mask_frames = range(num_frames) if mask_frames is None else mask_frames
    background = render_background(size, rng)
    appearances = [sample_appearance(CATEGORY_LOOKS[o.category], rng) for o in objects]
    sounding = [i for i, o in enumerate(objects) if o.sounding]
    frames = np.zeros((num_frames, size, size, 3), np.uint8)
    masks = np.zeros((num_frames, size, size), np.uint8)
    for f in range(num_frames):
        img, labels = compose_frame(background, appearances, [o.poses[f] for o in objects])
        frames[f] = finish_frame(img, rng)
        if f in mask_frames:
            masks[f] = masks_from_labels(labels, sounding)
    audio = synthesize_clip_audio([objects[i].category for i in sounding], rng)
    return Clip(frames=frames, masks=masks, audio=audio, objects=objects)
