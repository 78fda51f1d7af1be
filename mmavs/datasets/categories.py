# Copyright (c) mmavs contributors. All rights reserved.
"""Category -> coarse group tables of AVSBench S4 and of SynthAVS.

The coarse groups drive the off-screen negative of AVSBench-Robust: a video's off-screen audio is
borrowed from a video of another group (``docs/data.md``). The S4 keys are the
category folder names of the official release (``s4_data/visual_frames/<split>/<category>/``);
the SynthAVS keys are the categories written by :mod:`mmavs.synth`. The two key sets are disjoint,
so :func:`get_coarse_group` can look a category up without being told which dataset it came from.

MS3 videos have no category in their CSV; the MS3 dataset tags them ``'multi'``, which has no group.
"""
from typing import Dict, Optional

from ..utils.constants import MULTI_SOURCE_CATEGORY  # noqa: F401  (re-exported)

#: The four coarse groups, in a fixed order.
COARSE_GROUPS = ('music', 'human', 'animal', 'device')

#: The 23 AVSBench S4 categories (folder names) and their coarse group.
AVSBENCH_S4_GROUPS: Dict[str, str] = {
    # music
    'playing_acoustic_guitar': 'music',
    'playing_glockenspiel': 'music',
    'playing_piano': 'music',
    'playing_tabla': 'music',
    'playing_ukulele': 'music',
    'playing_violin': 'music',
    # human
    'baby_laughter': 'human',
    'female_singing': 'human',
    'male_speech': 'human',
    # animal
    'cat_meowing': 'animal',
    'coyote_howling': 'animal',
    'dog_barking': 'animal',
    'horse_clip-clop': 'animal',
    'lions_roaring': 'animal',
    'mynah_bird_singing': 'animal',
    # device
    'driving_buses': 'device',
    'helicopter': 'device',
    'race_car': 'device',
    'ambulance_siren': 'device',
    'cap_gun_shooting': 'device',
    'chainsawing_trees': 'device',
    'lawn_mowing': 'device',
    'typing_on_computer_keyboard': 'device',
}

#: The 12 SynthAVS categories and their coarse group (three per group, mirroring AVSBench's).
SYNTH_CATEGORY_GROUPS: Dict[str, str] = {
    'guitar': 'music',
    'piano': 'music',
    'flute': 'music',
    'singer': 'human',
    'speaker': 'human',
    'baby': 'human',
    'dog': 'animal',
    'bird': 'animal',
    'owl': 'animal',
    'siren': 'device',
    'engine': 'device',
    'typewriter': 'device',
}


def _check_tables() -> None:
    overlap = set(AVSBENCH_S4_GROUPS) & set(SYNTH_CATEGORY_GROUPS)
    if overlap:
        raise RuntimeError(f'category names shared by AVSBench S4 and SynthAVS: {sorted(overlap)}')
    for table in (AVSBENCH_S4_GROUPS, SYNTH_CATEGORY_GROUPS):
        unknown = set(table.values()) - set(COARSE_GROUPS)
        if unknown:
            raise RuntimeError(f'unknown coarse groups {sorted(unknown)}')


_check_tables()

#: Every known category (AVSBench S4 and SynthAVS) -> coarse group.
CATEGORY_GROUPS: Dict[str, str] = {**AVSBENCH_S4_GROUPS, **SYNTH_CATEGORY_GROUPS}


def get_coarse_group(category: Optional[str]) -> Optional[str]:
    """Return the coarse group of a category, or None when it has none.

    Args:
        category (str | None): An AVSBench S4 or SynthAVS category name, ``'multi'`` or None.

    Returns:
        str | None: One of :data:`COARSE_GROUPS`; None for ``'multi'``, None and unknown names.
    """
    if category is None:
        return None
    return CATEGORY_GROUPS.get(category)
