# Copyright (c) mmavs contributors. All rights reserved.
"""File layout of AVSBench (S4 and MS3) on disk, as pure path functions.

One place knows the official folder and file names, so the datasets that read them, the SynthAVS
generator that writes them and the log-mel cache tool agree by construction. ``root`` is the folder
that holds ``Single-source/`` and ``Multi-sources/``. Frame indices are 0-based here
(``frame_idx`` 0..4); file names are 1-based (``<name>_1.png`` .. ``<name>_5.png``).

.. code-block:: none

    root/
      Single-source/
        s4_meta_data.csv                  name,<start time>,category,split
        s4_data/visual_frames/<split>/<category>/<name>/<name>_<1..5>.png
        s4_data/audio_wav/<split>/<category>/<name>.wav
        s4_data/audio_log_mel/<split>/<category>/<name>.pkl
        s4_data/gt_masks/<split>/<category>/<name>/<name>_<1..5>.png   (train: _1 only)
      Multi-sources/
        ms3_meta_data.csv                 vid,split
        ms3_data/visual_frames/<vid>/<vid>.mp4_<1..5>.png              (no split folder)
        ms3_data/audio_wav/<split>/<vid>.wav
        ms3_data/audio_log_mel/<split>/<vid>.pkl
        ms3_data/gt_masks/<split>/<vid>/<vid>_<1..5>.png
"""
import os.path as osp
from dataclasses import dataclass

#: Splits of AVSBench, in order.
SPLITS = ('train', 'val', 'test')

S4_DIR = 'Single-source'
MS3_DIR = 'Multi-sources'
S4_CSV = osp.join(S4_DIR, 's4_meta_data.csv')
MS3_CSV = osp.join(MS3_DIR, 'ms3_meta_data.csv')


def check_split(split: str) -> str:
    """Return ``split`` if it is an AVSBench split, else raise a ValueError naming it."""
    if split not in SPLITS:
        raise ValueError(f"unknown split: expected one of {SPLITS}, found '{split}'")
    return split


@dataclass(frozen=True)
class S4Layout:
    """Paths of AVSBench S4 (single source) under ``root``.

    Args:
        root (str): The folder holding ``Single-source/``.
    """
    root: str

    @property
    def base(self) -> str:
        return osp.join(self.root, S4_DIR, 's4_data')

    @property
    def csv_path(self) -> str:
        return osp.join(self.root, S4_CSV)

    def frame_dir(self, split: str, category: str, name: str) -> str:
        return osp.join(self.base, 'visual_frames', split, category, name)

    def frame(self, split: str, category: str, name: str, frame_idx: int) -> str:
        """Path of frame ``frame_idx`` (0-based) of a video."""
        return osp.join(self.frame_dir(split, category, name), f'{name}_{frame_idx + 1}.png')

    def mask(self, split: str, category: str, name: str, frame_idx: int) -> str:
        """Path of the mask of frame ``frame_idx`` (0-based) of a video."""
        return osp.join(self.base, 'gt_masks', split, category, name, f'{name}_{frame_idx + 1}.png')

    def wav(self, split: str, category: str, name: str) -> str:
        return osp.join(self.base, 'audio_wav', split, category, f'{name}.wav')

    def log_mel(self, split: str, category: str, name: str) -> str:
        return osp.join(self.base, 'audio_log_mel', split, category, f'{name}.pkl')


@dataclass(frozen=True)
class MS3Layout:
    """Paths of AVSBench MS3 (multiple sources) under ``root``.

    ``split`` and ``category`` are accepted by every method so both layouts share one signature;
    frames of MS3 live in one folder for all splits and no path depends on ``category``.

    Args:
        root (str): The folder holding ``Multi-sources/``.
    """
    root: str

    @property
    def base(self) -> str:
        return osp.join(self.root, MS3_DIR, 'ms3_data')

    @property
    def csv_path(self) -> str:
        return osp.join(self.root, MS3_CSV)

    def frame_dir(self, split: str, category: str, name: str) -> str:
        return osp.join(self.base, 'visual_frames', name)

    def frame(self, split: str, category: str, name: str, frame_idx: int) -> str:
        """Path of frame ``frame_idx`` (0-based); the ``.mp4`` stays in the name."""
        return osp.join(self.frame_dir(split, category, name), f'{name}.mp4_{frame_idx + 1}.png')

    def mask(self, split: str, category: str, name: str, frame_idx: int) -> str:
        return osp.join(self.base, 'gt_masks', split, name, f'{name}_{frame_idx + 1}.png')

    def wav(self, split: str, category: str, name: str) -> str:
        return osp.join(self.base, 'audio_wav', split, f'{name}.wav')

    def log_mel(self, split: str, category: str, name: str) -> str:
        return osp.join(self.base, 'audio_log_mel', split, f'{name}.pkl')
