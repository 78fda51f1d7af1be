# Copyright (c) mmavs contributors. All rights reserved.
"""Registration entry point, in the style of ``mmseg.utils.register_all_modules``."""
from mmengine.registry import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmseg and mmavs module so that all registries are filled.

    mmavs registers into mmseg's registries (scope ``'mmseg'``), so one config can mix mmavs and
    MMSeg components (and MMPretrain ones, as ``type='mmpretrain.ResNet'``).

    Args:
        init_default_scope (bool): Set the default scope to ``'mmseg'`` if no scope is current.
    """
    from mmseg.utils import register_all_modules as register_mmseg
    register_mmseg(init_default_scope=False)
    import mmavs.datasets  # noqa: F401
    import mmavs.engine  # noqa: F401
    import mmavs.evaluation  # noqa: F401
    import mmavs.models  # noqa: F401
    import mmavs.visualization  # noqa: F401
    if init_default_scope and DefaultScope.get_current_instance() is None:
        DefaultScope.get_instance('mmavs', scope_name='mmseg')
