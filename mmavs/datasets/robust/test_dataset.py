# Copyright (c) mmavs contributors. All rights reserved.
"""The AVSBench-Robust evaluation sets: :class:`RobustTestDataset`.

A split replicated once per condition (``positive``, ``silence``, ``noise``, ``offscreen``,
``unseen``) with the negatives fixed by the manifest (:mod:`.manifest`), each sample tagged with
its ``condition`` so that one test run evaluates all of them.
"""
import copy
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.dataset import BaseDataset
from mmengine.dataset.base_dataset import force_full_init
from mmseg.registry import DATASETS

from ...utils.constants import POSITIVE_CONDITION
from .base import (RobustDatasetWrapper, check_conditions, check_pipeline, collect_video_infos,
                   video_infos_of)
from .manifest import (ManifestError, build_manifest, default_manifest_path, load_manifest,
                       manifest_command, missing_records, write_manifest)
from .waveforms import list_unseen_recordings, resolve_unseen_dir


def negative_spec(condition: str,
                  record: dict,
                  data_root: str,
                  unseen_folder: Optional[str] = None) -> dict:
    """What ``AddNegativeAudio`` plays for a video under a negative condition.

    Args:
        condition (str): ``'silence'``, ``'noise'``, ``'offscreen'`` or ``'unseen'``.
        record (dict): The video's manifest record (:mod:`.manifest`).
        data_root (str): Root the donor audio paths of the manifest are relative to.
        unseen_folder (str, optional): Folder of the unseen recordings (``unseen`` only).

    Returns:
        dict: the sample's ``negative`` dict (see ``AddNegativeAudio``).
    """
    if condition == 'silence':
        return {}
    if condition == 'noise':
        noise = record['noise']
        return dict(noise_type=noise['type'], noise_seed=noise['seed'], noise_dbfs=noise['dbfs'])
    if condition == 'offscreen':
        donor = record['offscreen']
        return dict(
            donor_video_id=donor['video_id'],
            donor_category=donor.get('category'),
            donor_audio_path=osp.join(data_root, donor['audio_path']),
            donor_rule=donor.get('rule'))
    if condition == 'unseen':
        if record.get('unseen') is None:
            raise ManifestError('the manifest has no unseen recording for this video')
        return dict(
            unseen_file=osp.join(resolve_unseen_dir(unseen_folder), record['unseen']['file']))
    raise ValueError(f"unknown negative condition: '{condition}'")


@DATASETS.register_module()
class RobustTestDataset(RobustDatasetWrapper):
    """A split replicated once per condition, negatives fixed by the robust manifest.

    Index ``c * N + i`` is sample ``i`` of the wrapped dataset under ``conditions[c]``; its data
    info (and so its ``SegDataSample`` metainfo) carries ``condition`` and ``is_sounding``.

    Args:
        dataset (dict | BaseDataset): The positive split (val or test). A config gets
            ``AddNegativeAudio`` first in its pipeline when it has none; an instance's pipeline
            must run it before the audio and mask loaders when a negative condition is asked
            for.
        conditions (Sequence[str]): Any of ``'positive'``, ``'silence'``, ``'noise'``,
            ``'offscreen'``, ``'unseen'``. Default the first four.
        manifest_path (str | None): The manifest (``make_robust_manifest.py``). None:
            ``<data_root>/<Single-source|Multi-sources>/robust_manifest_<subset>_seed<seed>.json``.
        subset (str | None): ``'s4'`` or ``'ms3'`` (default manifest name and generation).
            None: the wrapped dataset's ``subset`` (the AVSBench datasets have one).
        manifest_seed (int): Seed of the default manifest. Default 42.
        build_manifest_if_missing (bool): Generate a missing manifest (every split, like the tool)
            instead of raising. Meant for SynthAVS; real benchmarks should use the shipped tool.
        unseen_dir (str | None): Folder of the unseen recordings (default: the recordings
            shipped with mmavs, see :func:`~.waveforms.resolve_unseen_dir`).
        lazy_init (bool): Defer loading the manifest to :meth:`full_init`. Default False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 conditions: Sequence[str] = ('positive', 'silence', 'noise', 'offscreen'),
                 manifest_path: Optional[str] = None,
                 subset: Optional[str] = None,
                 manifest_seed: int = 42,
                 build_manifest_if_missing: bool = False,
                 unseen_dir: Optional[str] = None,
                 lazy_init: bool = False) -> None:
        self.conditions = check_conditions(conditions, type(self).__name__)
        self.manifest_path = manifest_path
        self.manifest_seed = int(manifest_seed)
        self.build_manifest_if_missing = build_manifest_if_missing
        self.unseen_dir = unseen_dir
        self._dataset_cfg = copy.deepcopy(dataset) if isinstance(dataset, dict) else None
        self._init_inner(dataset)
        self.subset = subset if subset is not None else getattr(self.dataset, 'subset', None)
        if self.subset is None and self.negative_conditions:
            raise ValueError(f'{type(self).__name__}: subset (s4 or ms3) is not known for '
                             f'{type(self.dataset).__name__}; pass subset=...')
        self._metainfo = dict(self._metainfo, conditions=self.conditions)
        if not lazy_init:
            self.full_init()

    @property
    def negative_conditions(self) -> Tuple[str, ...]:
        return tuple(c for c in self.conditions if c != POSITIVE_CONDITION)

    def full_init(self) -> None:
        """Build the inner dataset, load (or build) the manifest and check it covers the split."""
        if self._fully_initialized:
            return
        self._full_init_inner()
        self.num_samples = len(self.dataset)
        self.records: Dict[str, Dict[str, dict]] = {}
        if self.negative_conditions:
            check_pipeline(self.dataset, type(self).__name__)
            self.records = self._load_records()
        if 'unseen' in self.conditions:
            self.unseen_folder = resolve_unseen_dir(self.unseen_dir)
        self._fully_initialized = True

    def _resolved_manifest_path(self) -> str:
        if self.manifest_path is not None:
            return self.manifest_path
        return default_manifest_path(self.dataset.data_root or '', self.subset, self.manifest_seed)

    def _load_records(self) -> Dict[str, Dict[str, dict]]:
        path = self._resolved_manifest_path()
        command = manifest_command(self.dataset.data_root or '<data_root>', self.subset,
                                   self.manifest_seed)
        if not osp.isfile(path) and self.build_manifest_if_missing:
            self._write_manifest(path)
        hint = f'Generate it with: {command} (see docs/robust.md)'
        manifest = load_manifest(path, hint)
        videos = video_infos_of(self.dataset)
        wanted: Dict[str, List[str]] = OrderedDict()
        for info in videos:
            wanted.setdefault(info.get('split'), []).append(info['video_id'])
        missing = missing_records(manifest, wanted)
        if missing:
            raise ManifestError(
                f'expected a record for every video of the dataset, found {len(missing)} '
                f'missing (e.g. {missing[:3]}) in {path}: it was made for other data. '
                f'Regenerate it: {command}')
        if 'unseen' in self.conditions and not manifest.get('unseen_files'):
            raise ManifestError(f"condition 'unseen' needs unseen recordings, but {path} was "
                                f'generated without them: rerun {command} --unseen-dir DIR')
        return {
            split: {
                vid: manifest['videos'][split][vid]
                for vid in vids
            }
            for split, vids in wanted.items()
        }

    def _write_manifest(self, path: str) -> None:
        if self._dataset_cfg is None:
            raise ManifestError(
                f'build_manifest_if_missing needs the dataset as a config dict (to list every '
                f'split), found an instance; generate {path} with '
                f'{manifest_command(self.dataset.data_root, self.subset, self.manifest_seed)}')
        infos = collect_video_infos(self._dataset_cfg)
        try:
            unseen = list_unseen_recordings(resolve_unseen_dir(self.unseen_dir))
        except FileNotFoundError:
            unseen = []
        manifest = build_manifest(
            infos,
            seed=self.manifest_seed,
            subset=self.subset,
            unseen_files=unseen,
            data_root=self.dataset.data_root)
        write_manifest(manifest, path)

    @force_full_init
    def __len__(self) -> int:
        """``len(conditions) * N``."""
        return len(self.conditions) * self.num_samples

    @force_full_init
    def get_data_info(self, index: int) -> dict:
        """Data info of sample ``index % N`` under condition ``conditions[index // N]``."""
        if not 0 <= index < len(self):
            raise IndexError(f'index {index} out of range for {len(self)} samples')
        condition_index, sample_index = divmod(int(index), self.num_samples)
        condition = self.conditions[condition_index]
        info = self.dataset.get_data_info(sample_index)
        info['condition'] = condition
        info['is_sounding'] = int(condition == 'positive' and info.get('is_sounding', 1))
        if condition != 'positive':
            record = self.records[info.get('split')][info['video_id']]
            info['negative'] = self._negative_spec(condition, record)
        return info

    def _negative_spec(self, condition: str, record: dict) -> dict:
        return negative_spec(condition, record, self.dataset.data_root or '',
                             self.unseen_folder if condition == 'unseen' else None)

    @force_full_init
    def __getitem__(self, index: int) -> dict:
        return self._run_pipeline(self.get_data_info(index))


# --------------------------------------------------------------------------------------------
