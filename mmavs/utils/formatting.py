# Copyright (c) mmavs contributors. All rights reserved.
"""Number formatting of the result tables and strict-JSON conversion, one helper each."""
import math
from numbers import Integral


def format_number(value, digits: int = 4, signed: bool = False) -> str:
    """A table cell: ``'-'`` for None/NaN, integers (frame counts) as they are, other numbers
    with ``digits`` decimals (``signed``: with a sign, for differences)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    if isinstance(value, Integral) and not isinstance(value, bool):
        return str(value)
    return f'{value:+.{digits}f}' if signed else f'{value:.{digits}f}'


def json_safe(value):
    """``value`` with NaN floats replaced by None and tuples by lists (strict JSON)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
