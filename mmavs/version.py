# Copyright (c) mmavs contributors. All rights reserved.
"""Version of mmavs."""

__version__ = '0.2.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse ``'0.1.0'`` / ``'0.1.0rc1'`` into ``(0, 1, 0)`` / ``(0, 1, 0, 'rc1')``."""
    info = []
    for part in version_str.split('.'):
        if part.isdigit():
            info.append(int(part))
        else:
            digits = ''.join(c for c in part if c.isdigit())
            rest = part[len(digits):]
            info.extend([int(digits), rest] if digits else [rest])
    return tuple(info)


version_info = parse_version_info(__version__)
