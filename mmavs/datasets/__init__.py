# Copyright (c) mmavs contributors. All rights reserved.
from .avsbench import AVSBenchMS3Dataset, AVSBenchS4Dataset
from .categories import (AVSBENCH_S4_GROUPS, CATEGORY_GROUPS, COARSE_GROUPS, SYNTH_CATEGORY_GROUPS,
                         get_coarse_group)
from .layout import SPLITS, MS3Layout, S4Layout
from .robust import RobustInfiniteSampler, RobustSampler, RobustTestDataset, RobustTrainDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'AVSBenchS4Dataset', 'AVSBenchMS3Dataset', 'AVSBENCH_S4_GROUPS', 'SYNTH_CATEGORY_GROUPS',
    'CATEGORY_GROUPS', 'COARSE_GROUPS', 'get_coarse_group', 'SPLITS', 'S4Layout', 'MS3Layout',
    'RobustTrainDataset', 'RobustTestDataset', 'RobustSampler', 'RobustInfiniteSampler'
]
