# Copyright (c) mmavs contributors. All rights reserved.
"""Off-screen donors of AVSBench-Robust: which other video of a split lends its audio.

A video's off-screen negative is the audio of another video of the same split whose coarse group
differs from its own, under the AVSBench-Robust exclusions (:func:`allowed_donor_groups`).
:class:`DonorPool` precomputes the candidates of a split and draws one deterministically from a
key (:mod:`.seeding`).
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..categories import CATEGORY_GROUPS, COARSE_GROUPS
from .seeding import draw_index

#: Exclusions of AVSBench-Robust on top of "the donor's group differs": target group -> donor
#: groups that may not donate to it (music and human never swap; animal never takes human).
EXCLUDED_DONOR_GROUPS: Dict[str, Tuple[str, ...]] = {
    'music': ('human', ),
    'human': ('music', ),
    'animal': ('human', ),
    'device': (),
}


def allowed_donor_groups(target_group: str) -> Tuple[str, ...]:
    """Coarse groups that may donate off-screen audio to a video of ``target_group``.

    Rule of AVSBench-Robust: the donor's group differs from the target's; music and human never
    donate to each other; animal never takes a human donor.

    ============  ========================
    target        allowed donor groups
    ============  ========================
    music         animal, device
    human         animal, device
    animal        music, device
    device        music, human, animal
    ============  ========================
    """
    if target_group not in EXCLUDED_DONOR_GROUPS:
        raise ValueError(
            f"unknown coarse group: expected one of {COARSE_GROUPS}, found '{target_group}'")
    excluded = set(EXCLUDED_DONOR_GROUPS[target_group]) | {target_group}
    return tuple(group for group in COARSE_GROUPS if group not in excluded)


def is_valid_donor(target_category: Optional[str],
                   donor_category: Optional[str],
                   category_groups: Mapping[str, str] = CATEGORY_GROUPS) -> bool:
    """Whether a donor of ``donor_category`` follows the group rule for ``target_category``.

    Only meaningful when both categories have a coarse group; see :func:`allowed_donor_groups`.
    """
    target_group = category_groups.get(target_category)
    donor_group = category_groups.get(donor_category)
    if target_group is None or donor_group is None:
        return False
    return donor_group in allowed_donor_groups(target_group)


#: How a donor was chosen: by the group rule, by the "any other class" fallback, or, for videos
#: without a category (MS3), among every other video of the split.
DONOR_RULES = ('group', 'other_class', 'other_video')


class DonorPool:
    """Off-screen donor candidates of one split, with the AVSBench-Robust rules precomputed.

    Args:
        video_ids (Sequence[str]): The split's videos (each once).
        categories (Sequence[str | None]): Their categories (``'multi'``/None for MS3).
        category_groups (Mapping[str, str]): Category -> coarse group. Default: AVSBench S4 and
            SynthAVS (:data:`mmavs.datasets.categories.CATEGORY_GROUPS`).

    A target whose category has a group draws uniformly among the videos of the allowed groups
    (rule ``'group'``); when there is none, among the videos of any other category
    (``'other_class'``); a target without a group (MS3's ``'multi'``, an unknown category) draws
    among the videos of any other category (``'other_class'``) or, when every video shares its
    category (MS3: all ``'multi'``), among every other video of the split (``'other_video'``).
    """

    def __init__(self,
                 video_ids: Sequence[str],
                 categories: Sequence[Optional[str]],
                 category_groups: Mapping[str, str] = CATEGORY_GROUPS) -> None:
        if len(video_ids) != len(categories):
            raise ValueError(f'{len(video_ids)} video ids but {len(categories)} categories')
        if len(set(video_ids)) != len(video_ids):
            raise ValueError('video ids of a donor pool must be unique')
        self.video_ids = list(video_ids)
        self.categories = list(categories)
        self.category_groups = dict(category_groups)
        self.index = {video_id: i for i, video_id in enumerate(self.video_ids)}
        self._cache: Dict[Optional[str], Tuple[np.ndarray, str]] = {}

    def __len__(self) -> int:
        return len(self.video_ids)

    def candidates(self, target: int) -> Tuple[np.ndarray, str]:
        """Eligible donor indices of target video index ``target`` and the rule that chose them.

        Returns:
            tuple[np.ndarray, str]: sorted int64 indices (never ``target``) and one of
            :data:`DONOR_RULES`.

        Raises:
            ValueError: the split has no other video.
        """
        category = self.categories[target]
        if category not in self._cache:
            self._cache[category] = self._candidates_for_category(category)
        indices, rule = self._cache[category]
        if rule == 'other_video':
            indices = indices[indices != target]
        if indices.size == 0:
            raise ValueError(f"no off-screen donor for video '{self.video_ids[target]}': "
                             f'the split has no other video')
        return indices, rule

    def _candidates_for_category(self, category: Optional[str]) -> Tuple[np.ndarray, str]:
        groups = [self.category_groups.get(c) for c in self.categories]
        everyone = np.arange(len(self.video_ids), dtype=np.int64)
        target_group = self.category_groups.get(category)
        if target_group is not None:
            allowed = set(allowed_donor_groups(target_group))
            by_group = everyone[[group in allowed for group in groups]]
            if by_group.size:
                return by_group, 'group'
        if category is not None:
            others = everyone[[c != category for c in self.categories]]
            if others.size:
                return others, 'other_class'
        return everyone, 'other_video'

    def draw(self, target: int, *key) -> Tuple[int, str]:
        """Draw one donor for ``target`` deterministically from ``key`` (e.g. seed, epoch, slot).

        Returns:
            tuple[int, str]: the donor's index in this pool and its rule (:data:`DONOR_RULES`).
        """
        indices, rule = self.candidates(target)
        return int(indices[draw_index(len(indices), 'offscreen', *key)]), rule
