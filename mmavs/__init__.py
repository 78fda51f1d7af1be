# Copyright (c) mmavs contributors. All rights reserved.
"""mmavs: robust audio-visual segmentation as an MMSegmentation 1.x plugin.

``import mmavs`` applies the environment fixes of :mod:`mmavs.utils.compat` and registers every
mmavs component into MMSeg's registries (``DATASETS``, ``TRANSFORMS``, ``MODELS``, ``METRICS``,
``HOOKS``, ``VISUALIZERS``), so that a config with ``custom_imports=dict(imports=['mmavs'])`` and
``default_scope='mmseg'`` can use them next to any MMSeg or MMPretrain component.
"""
from .utils.compat import apply_compat_fixes

apply_compat_fixes()

from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401
from .version import __version__, version_info  # noqa: E402

__all__ = ['__version__', 'version_info']
