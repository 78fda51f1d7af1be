# Copyright (c) mmavs contributors. All rights reserved.
"""The main job's CPU thread schedule (tools/reproduce/thread_schedule.py)."""
from types import SimpleNamespace

import pytest
import torch
from mmseg.registry import HOOKS

from mmavs_testing.cli import load_tool

_tool = load_tool('tools/reproduce/thread_schedule.py')
parse_thread_schedule, threads_at = _tool.parse_thread_schedule, _tool.threads_at
CPUThreadScheduleHook = _tool.CPUThreadScheduleHook


def test_thread_schedule_parsing_and_lookup():
    schedule = parse_thread_schedule('0:1,2700:2')
    assert schedule == [(0, 1), (2700, 2)]
    assert [threads_at(schedule, i) for i in (0, 2699, 2700, 10**6)] == [1, 1, 2, 2]
    assert threads_at([(5, 3)], 4) is None  # before the first entry: leave torch alone
    assert threads_at([(100, 2), (0, 1)], 150) == 2  # order of the entries does not matter
    for bad in ('0-1', '0:1,x:2', '1:2:3'):
        with pytest.raises(ValueError, match='ITER:THREADS'):
            parse_thread_schedule(bad)


def test_thread_schedule_hook_sets_torch_threads_at_its_iterations():
    before = torch.get_num_threads()
    hook = HOOKS.build(dict(type='CPUThreadScheduleHook', schedule=[(0, 1), (3, 2)]))
    seen = []
    try:
        for it in range(5):
            hook.before_train_iter(SimpleNamespace(iter=it), it)
            seen.append(torch.get_num_threads())
        assert seen == [1, 1, 1, 2, 2]
        # a run resumed after the switch gets the later count at once
        torch.set_num_threads(1)
        hook.before_train_iter(SimpleNamespace(iter=40), 0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    for bad in ([], [(0, 0)], [(-1, 2)], [(0, )], 'x'):
        with pytest.raises(ValueError, match='CPUThreadScheduleHook'):
            CPUThreadScheduleHook(bad)
