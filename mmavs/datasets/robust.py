# Copyright (c) mmavs contributors. All rights reserved.
"""AVSBench-Robust dataset wrappers and the epoch-carrying samplers.

* :class:`RobustTrainDataset` wraps a positive dataset (AVSBench S4/MS3, SynthAVS) into the
  *balanced training stream* of the paper: every positive frame once per epoch, plus negative
  pairs (frame, negative audio, empty mask) at a configurable share per condition (authors: 5 %
  off-screen + 5 % silence, so 90 % positives). Noise (and the unseen recordings) are held out for
  testing and refused unless explicitly allowed.
* :class:`RobustTestDataset` replicates a split once per condition (``positive``, ``silence``,
  ``noise``, ``offscreen``, optional ``unseen``) with the negatives fixed by the manifest
  (:mod:`mmavs.datasets.robust_manifest`), each sample tagged with its ``condition`` so one test run
  evaluates all of them.
* :class:`RobustSampler` / :class:`RobustInfiniteSampler` are mmengine's ``DefaultSampler`` /
  ``InfiniteSampler`` whose indices carry the epoch.

Design of the training stream (why it is safe with dataloader workers and DDP). An epoch is a
list of ``L = ceil(N / (1 - sum(neg_ratios)))`` positions over ``N`` positive frames: position
``p < N`` is positive frame ``p``; position ``p >= N`` is negative *slot* ``j = p - N``, whose
condition is fixed by ``j`` (the slot counts per condition are the ratios times ``L``, rounded
by largest remainder, so every epoch has exactly the same mix). Which frame a slot pairs with,
its off-screen donor (drawn under the group rules) and its noise seed are a pure function of
``(seed, epoch, j)`` (SHA-256 keyed, :func:`mmavs.datasets.negatives.stable_hash`). The epoch
reaches the dataset *through the index*: the samplers yield ``epoch * L + p``, and
``DistSamplerSeedHook`` calls their ``set_epoch`` in the main process. Nothing in the dataset
changes after construction, so persistent workers (which never see attribute changes made in the
main process) and every DDP rank compute the same sample for the same index, epochs differ, and a
run is reproducible from ``seed``. Without these samplers the dataset still works, but sees epoch
0 forever (the same negatives every epoch).
"""
import bisect
import copy
import math
import os.path as osp
from collections import OrderedDict
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.dataset import BaseDataset, DefaultSampler, InfiniteSampler
from mmengine.dataset.base_dataset import force_full_init
from mmseg.registry import DATA_SAMPLERS, DATASETS

from .categories import CATEGORY_GROUPS
from .negatives import (CONDITIONS, DEFAULT_NOISE_DBFS, NEGATIVE_CONDITIONS, NOISE_TYPES,
                        DonorPool, derive_seed, draw_index, list_unseen_recordings,
                        resolve_unseen_dir)
from .robust_manifest import (ManifestError, build_manifest, default_manifest_path,
                              load_manifest, manifest_command, missing_records, write_manifest)
from .transforms.negative_audio import AddNegativeAudio

#: Conditions held out of training unless explicitly allowed.
HELD_OUT_CONDITIONS = ('noise', 'unseen')
#: Appended to "file not found" errors of the wrapped dataset.
PREPARE_DATA_HINT = (
    'Prepare the data first. AVSBench (distributed by its authors on request): unpack it under '
    'data/AVSBench and write the robust manifests, see docs/robust.md ("Preparing AVSBench"). '
    'SynthAVS: python tools/dataset_converters/make_synth_avs.py data/SynthAVS')
#: The authors' training mix: 5 % off-screen + 5 % silence (90 % positives).
DEFAULT_NEG_RATIOS = dict(offscreen=0.05, silence=0.05)


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------
def stream_layout(num_positive: int,
                  neg_ratios: Mapping[str, float]) -> Tuple[int, 'OrderedDict[str, int]']:
    """Length of a balanced epoch and its number of negatives per condition.

    Args:
        num_positive (int): Positive frames ``N`` (each appears once per epoch).
        neg_ratios (Mapping[str, float]): Condition -> share of the *whole* stream, sum < 1.

    Returns:
        tuple[int, OrderedDict[str, int]]: ``L = ceil(N / (1 - sum(ratios)))`` and the negative
        counts (conditions in :data:`NEGATIVE_CONDITIONS` order, summing to ``L - N``, split by
        largest remainder of ``(L - N) * r_c / sum(r)``).
    """
    unknown = [c for c in neg_ratios if c not in NEGATIVE_CONDITIONS]
    if unknown:
        raise ValueError(f'unknown negative conditions in neg_ratios: {unknown}; expected some '
                         f'of {NEGATIVE_CONDITIONS}')
    if any(r < 0 for r in neg_ratios.values()):
        raise ValueError(f'negative ratios must be >= 0, found {dict(neg_ratios)}')
    total = float(sum(neg_ratios.values()))
    if total >= 1.0:
        raise ValueError(f'negative ratios must sum to < 1 (the rest are positives), found {total}')
    if num_positive <= 0:
        raise ValueError(f'the positive dataset is empty (N={num_positive})')
    length = max(num_positive, math.ceil(num_positive / (1.0 - total) - 1e-9))
    num_negative = length - num_positive
    conditions = [c for c in NEGATIVE_CONDITIONS if neg_ratios.get(c, 0) > 0]
    exact = {c: num_negative * neg_ratios[c] / total for c in conditions} if total else {}
    counts = {c: int(math.floor(exact[c])) for c in conditions}
    leftover = num_negative - sum(counts.values())
    by_remainder = sorted(conditions, key=lambda c: (-(exact[c] - counts[c]),
                                                     conditions.index(c)))
    for c in by_remainder[:leftover]:
        counts[c] += 1
    return length, OrderedDict((c, counts[c]) for c in conditions)


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


def collect_video_infos(dataset_cfg: dict,
                        splits: Sequence[str] = ('train', 'val', 'test')) -> Dict[str, List[dict]]:
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


def _build_dataset(dataset: Union[BaseDataset, dict]) -> BaseDataset:
    if isinstance(dataset, dict):
        return DATASETS.build(dataset)
    if isinstance(dataset, BaseDataset):
        return dataset
    raise TypeError(f'expected a dataset config (dict) or a BaseDataset, found {type(dataset)}')


def _check_pipeline(dataset: BaseDataset, owner: str) -> None:
    """Raise unless the inner pipeline runs ``AddNegativeAudio`` before ``LoadAVSAudio``."""
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


class _RobustWrapper:
    """Shared plumbing of the two wrappers (inner dataset, metainfo, lazy init)."""

    _fully_initialized = False

    def _init_inner(self, dataset: Union[BaseDataset, dict]) -> None:
        try:
            self.dataset = _build_dataset(dataset)
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


# --------------------------------------------------------------------------------------------
# Training stream
# --------------------------------------------------------------------------------------------
@DATASETS.register_module()
class RobustTrainDataset(_RobustWrapper):
    """Balanced training stream of positives and negatives, resampled every epoch.

    Use with :class:`RobustSampler` (epoch-based loops) or :class:`RobustInfiniteSampler`
    (iteration-based loops); see the module docstring for the design.

    Args:
        dataset (dict | BaseDataset): The positive dataset (one split). Its pipeline must start
            with ``AddNegativeAudio`` (before ``LoadAVSAudio`` and the mask loader).
        neg_ratios (dict): Condition -> share of the whole stream. Default (the authors')
            ``dict(offscreen=0.05, silence=0.05)``.
        seed (int): Seed of the negatives (frames, donors, noise). Default 42.
        allow_noise_in_training (bool): Allow ``noise`` in ``neg_ratios`` (AVSBench-Robust holds
            noise out for testing). Default False.
        allow_unseen_in_training (bool): Allow ``unseen`` (the unseen recordings are test data).
            Default False.
        noise_types (Sequence[str]): Colours drawn for training noise. Default all three.
        noise_dbfs (float): Training noise RMS level in dB FS. Default -20.
        unseen_dir (str | None): Folder of unseen recordings (only with ``unseen``).
        category_groups (dict | None): Category -> coarse group for the off-screen rules.
            Default: AVSBench S4 + SynthAVS tables.
        lazy_init (bool): Defer building the stream to :meth:`full_init`. Default False.
    """

    #: Tells :class:`RobustSampler` that indices may carry the epoch (``epoch * len + p``).
    accepts_epoch_encoded_indices = True

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 neg_ratios: Optional[Mapping[str, float]] = None,
                 seed: int = 42,
                 allow_noise_in_training: bool = False,
                 allow_unseen_in_training: bool = False,
                 noise_types: Sequence[str] = NOISE_TYPES,
                 noise_dbfs: float = DEFAULT_NOISE_DBFS,
                 unseen_dir: Optional[str] = None,
                 category_groups: Optional[Mapping[str, str]] = None,
                 lazy_init: bool = False) -> None:
        neg_ratios = dict(DEFAULT_NEG_RATIOS if neg_ratios is None else neg_ratios)
        allowed = dict(noise=allow_noise_in_training, unseen=allow_unseen_in_training)
        for condition in HELD_OUT_CONDITIONS:
            if neg_ratios.get(condition, 0) > 0 and not allowed[condition]:
                raise ValueError(
                    f"'{condition}' negatives are held out of training in AVSBench-Robust, found "
                    f'neg_ratios={neg_ratios}; set allow_{condition}_in_training=True to train '
                    f'on them anyway')
        stream_layout(1, neg_ratios)  # validates the ratios early
        unknown = [t for t in noise_types if t not in NOISE_TYPES]
        if unknown or not noise_types:
            raise ValueError(f'noise_types must be a non-empty subset of {NOISE_TYPES}, found '
                             f'{list(noise_types)}')
        self.neg_ratios = neg_ratios
        self.seed = int(seed)
        self.noise_types = tuple(noise_types)
        self.noise_dbfs = float(noise_dbfs)
        self.unseen_dir = unseen_dir
        self.category_groups = dict(CATEGORY_GROUPS if category_groups is None
                                    else category_groups)
        self._init_inner(dataset)
        if not lazy_init:
            self.full_init()

    def full_init(self) -> None:
        """Build the inner dataset and the stream layout, frame -> video table, donor pools."""
        if self._fully_initialized:
            return
        self._full_init_inner()
        self.num_positive = len(self.dataset)
        self.length, self.negative_counts = stream_layout(self.num_positive, self.neg_ratios)
        if self.length > self.num_positive:
            _check_pipeline(self.dataset, type(self).__name__)
        self._slot_ends = list(self._cumulative(self.negative_counts.values()))
        self._slot_conditions = list(self.negative_counts)
        self._build_donor_pools()
        self._unseen_files = []
        if self.negative_counts.get('unseen'):
            folder = resolve_unseen_dir(self.unseen_dir)
            self._unseen_files = [osp.join(folder, n) for n in list_unseen_recordings(folder)]
        self._fully_initialized = True

    @staticmethod
    def _cumulative(values) -> Iterator[int]:
        total = 0
        for value in values:
            total += value
            yield total

    def _build_donor_pools(self) -> None:
        videos = video_infos_of(self.dataset)
        by_split: Dict[str, List[dict]] = OrderedDict()
        for info in videos:
            by_split.setdefault(info.get('split'), []).append(info)
        self._videos = {split: infos for split, infos in by_split.items()}
        self._pools = {
            split: DonorPool([i['video_id'] for i in infos], [i.get('category') for i in infos],
                             self.category_groups)
            for split, infos in by_split.items()
        }
        frame_videos = []
        for index in range(self.num_positive):
            info = self.dataset.get_data_info(index)
            split = info.get('split')
            if split not in self._pools or info['video_id'] not in self._pools[split].index:
                raise ValueError(f"frame {index} ('{info.get('img_path')}') belongs to video "
                                 f"'{info['video_id']}' of split '{split}', which is missing "
                                 f'from the video list of {type(self.dataset).__name__}')
            frame_videos.append((split, self._pools[split].index[info['video_id']]))
        self._frame_videos = frame_videos

    @force_full_init
    def __len__(self) -> int:
        """Positions per epoch, ``L`` (positives + negative slots)."""
        return self.length

    @force_full_init
    def describe(self, index: int) -> dict:
        """What position ``index`` (possibly ``epoch * L + p``) holds, without loading anything.

        Returns:
            dict: ``epoch``, ``position`` (``p``), ``condition``, ``frame_index`` (into the
            positive dataset) and ``negative`` (the dict handed to ``AddNegativeAudio``; None for
            positives).
        """
        index = int(index)
        if index < 0:
            raise IndexError(f'index must be >= 0, found {index}')
        epoch, position = divmod(index, self.length)
        out = dict(epoch=epoch, position=position)
        if position < self.num_positive:
            out.update(condition='positive', frame_index=position, negative=None)
            return out
        slot = position - self.num_positive
        condition = self._slot_conditions[bisect.bisect_right(self._slot_ends, slot)]
        frame_index = draw_index(self.num_positive, self.seed, 'frame', epoch, slot)
        out.update(condition=condition, frame_index=frame_index,
                   negative=self._negative_spec(condition, frame_index, epoch, slot))
        return out

    def _negative_spec(self, condition: str, frame_index: int, epoch: int, slot: int) -> dict:
        key = (self.seed, 'train', epoch, slot)
        if condition == 'silence':
            return {}
        if condition == 'noise':
            noise_type = self.noise_types[draw_index(len(self.noise_types), *key, 'noise-type')]
            return dict(noise_type=noise_type, noise_seed=derive_seed(*key, 'noise'),
                        noise_dbfs=self.noise_dbfs)
        if condition == 'unseen':
            return dict(unseen_file=self._unseen_files[draw_index(
                len(self._unseen_files), *key, 'unseen')])
        split, target = self._frame_videos[frame_index]
        donor, rule = self._pools[split].draw(target, *key)
        info = self._videos[split][donor]
        return dict(donor_video_id=info['video_id'], donor_category=info.get('category'),
                    donor_audio_path=info['audio_path'], donor_rule=rule)

    @force_full_init
    def get_data_info(self, index: int) -> dict:
        """The data info of ``index`` tagged with ``condition`` (and ``negative``)."""
        item = self.describe(index)
        info = self.dataset.get_data_info(item['frame_index'])
        info['condition'] = item['condition']
        if item['negative'] is not None:
            info['negative'] = item['negative']
            info['is_sounding'] = 0
        return info

    @force_full_init
    def __getitem__(self, index: int) -> dict:
        item = self.describe(index)
        if item['condition'] == 'positive':
            return self.dataset[item['frame_index']]
        return self._run_pipeline(self.get_data_info(index))


# --------------------------------------------------------------------------------------------
# Test / validation sets
# --------------------------------------------------------------------------------------------
@DATASETS.register_module()
class RobustTestDataset(_RobustWrapper):
    """A split replicated once per condition, negatives fixed by the robust manifest.

    Index ``c * N + i`` is sample ``i`` of the wrapped dataset under ``conditions[c]``; its data
    info (and so its ``SegDataSample`` metainfo) carries ``condition`` and ``is_sounding``.

    Args:
        dataset (dict | BaseDataset): The positive split (val or test). Its pipeline must start
            with ``AddNegativeAudio`` when a negative condition is asked for.
        conditions (Sequence[str]): Any of ``'positive'``, ``'silence'``, ``'noise'``,
            ``'offscreen'``, ``'unseen'``. Default the first four.
        manifest_path (str | None): The manifest (``make_robust_manifest.py``). None:
            ``<data_root>/<Single-source|Multi-sources>/robust_manifest_<subset>_seed<seed>.json``.
        subset (str): ``'s4'`` or ``'ms3'`` (default manifest name and generation).
        manifest_seed (int): Seed of the default manifest. Default 42.
        build_manifest_if_missing (bool): Generate a missing manifest (every split, like the tool)
            instead of raising. Meant for SynthAVS; real benchmarks should use the shipped tool.
        unseen_dir (str | None): Folder of the unseen recordings (default
            ``../shared/data/unseen_audio``, see :func:`resolve_unseen_dir`).
        lazy_init (bool): Defer loading the manifest to :meth:`full_init`. Default False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 conditions: Sequence[str] = ('positive', 'silence', 'noise', 'offscreen'),
                 manifest_path: Optional[str] = None,
                 subset: str = 's4',
                 manifest_seed: int = 42,
                 build_manifest_if_missing: bool = False,
                 unseen_dir: Optional[str] = None,
                 lazy_init: bool = False) -> None:
        unknown = [c for c in conditions if c not in CONDITIONS]
        if unknown or not conditions or len(set(conditions)) != len(conditions):
            raise ValueError(f'conditions must be distinct names from {CONDITIONS}, found '
                             f'{list(conditions)}')
        self.conditions = tuple(conditions)
        self.manifest_path = manifest_path
        self.subset = subset
        self.manifest_seed = int(manifest_seed)
        self.build_manifest_if_missing = build_manifest_if_missing
        self.unseen_dir = unseen_dir
        self._dataset_cfg = copy.deepcopy(dataset) if isinstance(dataset, dict) else None
        self._init_inner(dataset)
        self._metainfo = dict(self._metainfo, conditions=self.conditions)
        if not lazy_init:
            self.full_init()

    @property
    def negative_conditions(self) -> Tuple[str, ...]:
        return tuple(c for c in self.conditions if c != 'positive')

    def full_init(self) -> None:
        """Build the inner dataset, load (or build) the manifest and check it covers the split."""
        if self._fully_initialized:
            return
        self._full_init_inner()
        self.num_samples = len(self.dataset)
        self.records: Dict[str, Dict[str, dict]] = {}
        if self.negative_conditions:
            _check_pipeline(self.dataset, type(self).__name__)
            self.records = self._load_records()
        if 'unseen' in self.conditions:
            self.unseen_folder = resolve_unseen_dir(self.unseen_dir)
        self._fully_initialized = True

    def _resolved_manifest_path(self) -> str:
        if self.manifest_path is not None:
            return self.manifest_path
        return default_manifest_path(self.dataset.data_root or '', self.subset,
                                     self.manifest_seed)

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
        return {split: {vid: manifest['videos'][split][vid] for vid in vids}
                for split, vids in wanted.items()}

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
        manifest = build_manifest(infos, seed=self.manifest_seed, subset=self.subset,
                                  unseen_files=unseen, data_root=self.dataset.data_root)
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
        if condition == 'silence':
            return {}
        if condition == 'noise':
            noise = record['noise']
            return dict(noise_type=noise['type'], noise_seed=noise['seed'],
                        noise_dbfs=noise['dbfs'])
        if condition == 'offscreen':
            donor = record['offscreen']
            return dict(donor_video_id=donor['video_id'], donor_category=donor.get('category'),
                        donor_audio_path=osp.join(self.dataset.data_root or '',
                                                  donor['audio_path']),
                        donor_rule=donor.get('rule'))
        return dict(unseen_file=osp.join(self.unseen_folder, record['unseen']['file']))

    @force_full_init
    def __getitem__(self, index: int) -> dict:
        return self._run_pipeline(self.get_data_info(index))


# --------------------------------------------------------------------------------------------
# Samplers
# --------------------------------------------------------------------------------------------
def _check_epoch_encoded(dataset) -> None:
    if not getattr(dataset, 'accepts_epoch_encoded_indices', False):
        raise TypeError(f'the robust samplers encode the epoch into the index and need a dataset '
                        f'that decodes it (RobustTrainDataset), found {type(dataset).__name__}')


@DATA_SAMPLERS.register_module()
class RobustSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (shuffle, round-up, rank sharding) yielding ``epoch * L + p``.

    ``L = len(dataset)``; ``set_epoch`` is called by ``DistSamplerSeedHook`` in the main process,
    so the epoch reaches persistent dataloader workers with each index.

    Args:
        dataset (RobustTrainDataset): The stream.
        shuffle (bool): Shuffle each epoch (seeded by ``seed + epoch``). Default True.
        seed (int | None): Shuffle seed, synchronised over ranks when None.
        round_up (bool): Pad so every rank gets the same number of indices. Default True.
    """

    def __init__(self, dataset, shuffle: bool = True, seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        _check_epoch_encoded(dataset)
        super().__init__(dataset, shuffle=shuffle, seed=seed, round_up=round_up)

    def __iter__(self) -> Iterator[int]:
        offset = self.epoch * len(self.dataset)
        return iter([offset + index for index in super().__iter__()])


@DATA_SAMPLERS.register_module()
class RobustInfiniteSampler(InfiniteSampler):
    """mmengine's ``InfiniteSampler`` for iteration-based loops: pass ``k`` over the stream
    yields ``k * L + p``, so every pass draws fresh negatives.

    Args:
        dataset (RobustTrainDataset): The stream.
        shuffle (bool): Shuffle each pass. Default True.
        seed (int | None): Shuffle seed, synchronised over ranks when None.
    """

    def __init__(self, dataset, shuffle: bool = True, seed: Optional[int] = None) -> None:
        _check_epoch_encoded(dataset)
        super().__init__(dataset, shuffle=shuffle, seed=seed)

    def _infinite_indices(self) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed)
        epoch = 0
        while True:
            if self.shuffle:
                order = torch.randperm(self.size, generator=generator).tolist()
            else:
                order = range(self.size)
            offset = epoch * self.size
            yield from (offset + index for index in order)
            epoch += 1
