# Copyright (c) mmavs contributors. All rights reserved.
"""The one in-memory cache of mmavs: a per-process LRU, keyed by file path and modification time.

Every loader that keeps decoded data (frames, masks, log-mel clips, unseen recordings) uses
:class:`LRUCache`; :func:`file_key` makes a rewritten file miss the cache.
"""
import os
from collections import OrderedDict
from typing import Hashable, Optional, Tuple


class LRUCache:
    """A per-process least-recently-used cache of at most ``size`` items (0: caches nothing)."""

    def __init__(self, size: int):
        if size < 0:
            raise ValueError(f'cache_size must be >= 0, found {size}')
        self.size = size
        self._items: 'OrderedDict[Hashable, object]' = OrderedDict()

    def get(self, key: Hashable):
        """The item of ``key`` (now the most recent), or None."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: Hashable, value) -> None:
        if self.size == 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def file_key(path: str, *extra) -> Optional[Tuple]:
    """Cache key of a file: path, modification time and ``extra``; None when it is missing."""
    try:
        return (path, os.stat(path).st_mtime_ns) + extra
    except OSError:
        return None
