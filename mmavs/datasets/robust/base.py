# Copyright (c) mmavs contributors. All rights reserved.
"""Shared plumbing of the robust dataset wrappers (MMEngine's dataset-wrapper pattern).

A robust wrapper holds a positive dataset (AVSBench S4/MS3, SynthAVS) and tags each sample it
yields with its audio ``condition`` (and, for a negative, a ``negative`` dict naming the audio
to play). The wrapped dataset's pipeline turns the tag into a waveform with
:class:`~mmavs.datasets.transforms.AddNegativeAudio`, which must run before the audio and mask
loaders; a wrapper built from a config puts it first when the pipeline lacks it.
"""
import copy
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple, Union

from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS

from ...utils.constants import CONDITIONS
from ..layout import SPLITS

#: Appended to "file not found" errors of the wrapped dataset.
PREPARE_DATA_HINT = (
    'Prepare the data first. AVSBench (distributed by its authors on request): unpack it under '
    'data/AVSBench and write the robust manifests, see docs/robust.md ("Preparing AVSBench"). '
    'SynthAVS: python tools/dataset_converters/make_synth_avs.py data/SynthAVS')


def video_infos_of(dataset) -> List[dict]:
    """One dict per video (``video_id``, ``category``, ``split``, ``audio_path``) of a dataset.

    Uses ``dataset.video_infos`` (the AVSBench / SynthAVS datasets) when present, else the first
    data info of each video.
    """
    if getattr(dataset, 'video_infos', None) is not None:
        return [dict(info) for info in dataset.video_infos]
    seen: Dict[Tuple[str, str], dict] = OrderedDict()
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        key = (info.get('split'), info['video_id'])
        if key not in seen:
            seen[key] = {k: info.get(k) for k in ('video_id', 'category', 'split', 'audio_path')}
    return list(seen.values())


def collect_video_infos(dataset_cfg: dict, splits: Sequence[str] = SPLITS) -> Dict[str, List[dict]]:
    """Video infos of every split of a dataset config (for a whole-dataset manifest).

    Args:
        dataset_cfg (dict): A dataset config with a ``split`` argument (``AVSBenchS4Dataset``,
            ``AVSBenchMS3Dataset``); ``split`` and ``pipeline`` are overridden.
        splits (Sequence[str]): Splits to list.

    Returns:
        dict[str, list[dict]]: split -> :func:`video_infos_of` of that split.
    """
    infos = OrderedDict()
    for split in splits:
        cfg = copy.deepcopy(dataset_cfg)
        cfg.update(split=split, pipeline=[], test_mode=True)
        cfg.pop('indices', None)
        infos[split] = video_infos_of(DATASETS.build(cfg))
    return infos


def with_negative_audio(dataset_cfg: dict) -> dict:
    """A copy of a dataset config whose pipeline starts with ``AddNegativeAudio`` (unchanged
    when the pipeline already has one)."""
    cfg = copy.deepcopy(dataset_cfg)
    pipeline = list(cfg.get('pipeline') or [])
    names = [str(t.get('type', '')).split('.')[-1] for t in pipeline if isinstance(t, dict)]
    if 'AddNegativeAudio' not in names:
        cfg['pipeline'] = [dict(type='AddNegativeAudio')] + pipeline
    return cfg


def check_pipeline(dataset: BaseDataset, owner: str) -> None:
    """Raise unless the inner pipeline runs ``AddNegativeAudio`` before the audio and mask
    loaders."""
    from ..transforms.negative_audio import AddNegativeAudio  # the transforms import this package
    transforms = list(getattr(dataset.pipeline, 'transforms', []))
    names = [type(t).__name__ for t in transforms]
    adds = [i for i, t in enumerate(transforms) if isinstance(t, AddNegativeAudio)]
    if not adds:
        raise ValueError(
            f"{owner} yields negatives, but the pipeline of its dataset "
            f"({type(dataset).__name__}) has no AddNegativeAudio transform: found {names}. "
            f"Put dict(type='AddNegativeAudio') first in the dataset's pipeline.")
    for later in ('LoadAVSAudio', 'LoadAVSMask', 'LoadAnnotations'):
        if later in names and names.index(later) < adds[0]:
            raise ValueError(f'{owner}: AddNegativeAudio must come before {later} in the '
                             f'pipeline of the wrapped dataset, found {names}')


def check_conditions(conditions: Sequence[str], owner: str) -> Tuple[str, ...]:
    """``conditions`` as a tuple, if they are distinct AVSBench-Robust condition names."""
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown or not conditions or len(set(conditions)) != len(conditions):
        raise ValueError(f'{owner}: conditions must be distinct names from {CONDITIONS}, found '
                         f'{list(conditions)}')
    return tuple(conditions)


class RobustDatasetWrapper:
    """Base of the robust wrappers: the inner dataset, its metainfo and lazy initialisation."""

    _fully_initialized = False

    def _init_inner(self, dataset: Union[BaseDataset, dict]) -> None:
        if isinstance(dataset, dict):
            dataset = with_negative_audio(dataset)
        elif not isinstance(dataset, BaseDataset):
            raise TypeError('expected a dataset config (dict) or a BaseDataset, found '
                            f'{type(dataset).__name__}')
        try:
            self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        except FileNotFoundError as err:
            raise FileNotFoundError(f'{err}\n{PREPARE_DATA_HINT}') from err
        self._metainfo = self.dataset.metainfo

    def _full_init_inner(self) -> None:
        try:
            self.dataset.full_init()
        except FileNotFoundError as err:
            raise FileNotFoundError(f'{err}\n{PREPARE_DATA_HINT}') from err

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's metainfo (a copy)."""
        return copy.deepcopy(self._metainfo)

    def _run_pipeline(self, info: dict) -> dict:
        data = self.dataset.pipeline(info)
        if data is None:
            raise RuntimeError(f"the pipeline returned None for sample '{info.get('img_path')}' "
                               f"(condition '{info.get('condition')}')")
        return data
