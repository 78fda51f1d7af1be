# Copyright (c) mmavs contributors. All rights reserved.
from .compat import apply_compat_fixes
from .setup_env import register_all_modules

__all__ = ['apply_compat_fixes', 'register_all_modules']
