# Copyright (c) mmavs contributors. All rights reserved.
from .state_dict import (check_state_dict_fits, read_state_dict, state_dict_mismatches,
                         unwrap_state_dict)

__all__ = ['check_state_dict_fits', 'read_state_dict', 'state_dict_mismatches', 'unwrap_state_dict']
