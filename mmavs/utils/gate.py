# Copyright (c) mmavs contributors. All rights reserved.
"""The similarity gate's threshold: validated and resolved in one place.

A model with a similarity head may *gate* its masks at inference: a frame whose audio-visual
similarity probability is below ``gate_thr`` predicts nothing. The threshold can come from three
places; :func:`resolve_gate_thr` applies one precedence everywhere (the inference API,
``tools/test.py`` and the robust metric):

1. an explicit value (``init_model(gate_thr=...)``, ``tools/test.py --gate-thr``);
2. ``meta['gate_thr']`` of the checkpoint (written by ``calibrate_gate.py``);
3. ``model.gate_thr`` of the config;
4. otherwise no gate.
"""
from typing import Mapping, Optional


def check_gate_thr(gate_thr: Optional[float], where: str = 'gate_thr') -> Optional[float]:
    """``gate_thr`` as a float in [0, 1] (None stays None).

    Raises:
        ValueError: Not a number in [0, 1]; the message names ``where`` it came from.
    """
    if gate_thr is None:
        return None
    try:
        value = float(gate_thr)
    except (TypeError, ValueError):
        raise ValueError(f'expected a gate threshold in [0, 1] ({where}), found {gate_thr!r}')
    if not 0.0 <= value <= 1.0:
        raise ValueError(f'expected a gate threshold in [0, 1] ({where}), found {value}: a '
                         'threshold above 1 empties every mask, one below 0 gates nothing')
    return value


def resolve_gate_thr(explicit: Optional[float] = None,
                     checkpoint_meta: Optional[Mapping] = None,
                     config_value: Optional[float] = None,
                     checkpoint: Optional[str] = None) -> Optional[float]:
    """The gate threshold by the precedence of the module docstring, validated.

    Args:
        explicit (float, optional): A threshold given by the caller.
        checkpoint_meta (Mapping, optional): The checkpoint's ``meta`` dict.
        config_value (float, optional): ``model.gate_thr`` of the config.
        checkpoint (str, optional): The checkpoint's path, named in errors.

    Returns:
        float | None: The threshold, or None (no gate).
    """
    if explicit is not None:
        return check_gate_thr(explicit, 'given threshold')
    meta_value = (checkpoint_meta or {}).get('gate_thr')
    if meta_value is not None:
        return check_gate_thr(meta_value, f"meta['gate_thr'] of {checkpoint or 'the checkpoint'}")
    return check_gate_thr(config_value, 'model.gate_thr of the config')
