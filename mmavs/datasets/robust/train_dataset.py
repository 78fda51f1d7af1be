# Copyright (c) mmavs contributors. All rights reserved.
"""The balanced training stream of AVSBench-Robust: :class:`RobustTrainDataset`.

It wraps a positive dataset (AVSBench S4/MS3, SynthAVS) into the stream of the paper: every
positive frame once per epoch, plus negative pairs (frame, negative audio, empty mask) at a
configurable share per condition (authors: 5 % off-screen + 5 % silence, so 90 % positives).
Noise (and the unseen recordings) are held out for testing and refused unless explicitly allowed.

Design (why it is safe with dataloader workers and DDP). An epoch is a list of
``L = ceil(N / (1 - sum(neg_ratios)))`` positions over ``N`` positive frames: position ``p < N`` is
positive frame ``p``; position ``p >= N`` is negative *slot* ``j = p - N``, whose condition is
fixed by ``j`` (the slot counts per condition are the ratios times ``L``, rounded by largest
remainder, so every epoch has exactly the same mix). Which frame a slot pairs with, its
off-screen donor (drawn under the group rules) and its noise seed are a pure function of
``(seed, epoch, j)`` (:mod:`.seeding`). The epoch reaches the dataset *through the index*: the
samplers of :mod:`.samplers` yield ``epoch * L + p``, and ``DistSamplerSeedHook`` calls their
``set_epoch`` in the main process. Nothing in the dataset changes after construction, so
persistent workers (which never see attribute changes made in the main process) and every DDP
rank compute the same sample for the same index, epochs differ, and a run is reproducible from
``seed``. Without these samplers the dataset still works, but sees epoch 0 forever (the same
negatives every epoch).
"""
import bisect
import math
import os.path as osp
from collections import OrderedDict
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from mmengine.dataset import BaseDataset
from mmengine.dataset.base_dataset import force_full_init
from mmseg.registry import DATASETS

from ...utils.constants import NEGATIVE_CONDITIONS
from ..categories import CATEGORY_GROUPS
from .base import RobustDatasetWrapper, check_pipeline, video_infos_of
from .donors import DonorPool
from .seeding import derive_seed, draw_index
from .waveforms import DEFAULT_NOISE_DBFS, NOISE_TYPES, list_unseen_recordings, resolve_unseen_dir

#: Conditions held out of training unless explicitly allowed.
HELD_OUT_CONDITIONS = ('noise', 'unseen')
#: The authors' training mix: 5 % off-screen + 5 % silence (90 % positives).
DEFAULT_NEG_RATIOS = dict(offscreen=0.05, silence=0.05)


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
    by_remainder = sorted(conditions, key=lambda c: (-(exact[c] - counts[c]), conditions.index(c)))
    for c in by_remainder[:leftover]:
        counts[c] += 1
    return length, OrderedDict((c, counts[c]) for c in conditions)


@DATASETS.register_module()
class RobustTrainDataset(RobustDatasetWrapper):
    """Balanced training stream of positives and negatives, resampled every epoch.

    Use with :class:`~.samplers.RobustSampler` (epoch-based loops) or
    :class:`~.samplers.RobustInfiniteSampler` (iteration-based loops); see the module docstring
    for the design.

    Args:
        dataset (dict | BaseDataset): The positive dataset (one split). A config gets
            ``AddNegativeAudio`` first in its pipeline when it has none; an instance's pipeline
            must run it before ``LoadAVSAudio`` and the mask loader.
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

    #: Tells the robust samplers that indices may carry the epoch (``epoch * len + p``).
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
        self.category_groups = dict(CATEGORY_GROUPS if category_groups is None else category_groups)
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
            check_pipeline(self.dataset, type(self).__name__)
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
            split:
            DonorPool([i['video_id'] for i in infos], [i.get('category')
                                                       for i in infos], self.category_groups)
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
        out.update(
            condition=condition,
            frame_index=frame_index,
            negative=self._negative_spec(condition, frame_index, epoch, slot))
        return out

    def _negative_spec(self, condition: str, frame_index: int, epoch: int, slot: int) -> dict:
        key = (self.seed, 'train', epoch, slot)
        if condition == 'silence':
            return {}
        if condition == 'noise':
            noise_type = self.noise_types[draw_index(len(self.noise_types), *key, 'noise-type')]
            return dict(
                noise_type=noise_type,
                noise_seed=derive_seed(*key, 'noise'),
                noise_dbfs=self.noise_dbfs)
        if condition == 'unseen':
            return dict(
                unseen_file=self._unseen_files[draw_index(len(self._unseen_files), *key, 'unseen')])
        split, target = self._frame_videos[frame_index]
        donor, rule = self._pools[split].draw(target, *key)
        info = self._videos[split][donor]
        return dict(
            donor_video_id=info['video_id'],
            donor_category=info.get('category'),
            donor_audio_path=info['audio_path'],
            donor_rule=rule)

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
