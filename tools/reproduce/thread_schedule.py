# Copyright (c) mmavs contributors. All rights reserved.
"""Change torch's CPU thread count at fixed training iterations (a CPU trick of the main job).

Usage, a training of ``tools/train.py`` with a thread schedule::

    python tools/reproduce/thread_schedule.py CONFIG --thread-schedule 0:1,2700:2 [train.py args]

On a small CPU machine the main job trains the baseline and the robust model side by side, one
core each. The baseline's epochs are shorter (no negatives), so it finishes first and its core
would stay idle for the rest of the robust training. The main job therefore gives the robust
training a schedule: one thread until the iteration at which the baseline ends, all cores after.
The schedule is fixed in iterations, not driven by the clock, so a rerun repeats the same
floating-point operations in the same order and prints the same numbers.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS


def parse_thread_schedule(text: str) -> List[Tuple[int, int]]:
    """``'0:1,2700:2'`` -> ``[(0, 1), (2700, 2)]`` (iteration, threads from that iteration on)."""
    schedule = []
    for item in text.split(','):
        try:
            start, threads = (int(part) for part in item.split(':'))
        except ValueError:
            raise ValueError(f'thread schedule: expected ITER:THREADS[,ITER:THREADS...], found '
                             f'{item!r} in {text!r}') from None
        schedule.append((start, threads))
    return schedule


def threads_at(schedule: Sequence[Tuple[int, int]], iteration: int) -> Optional[int]:
    """Threads of the latest entry starting at or before ``iteration`` (None before the first)."""
    started = [(start, threads) for start, threads in schedule if start <= iteration]
    return max(started)[1] if started else None


@HOOKS.register_module()
class CPUThreadScheduleHook(Hook):
    """Set ``torch.set_num_threads`` from an iteration schedule during training.

    Args:
        schedule (list[tuple[int, int]]): ``(iteration, intra-op threads from that iteration
            on)`` pairs, e.g. ``[(0, 1), (2700, 2)]``. A resumed run applies the entry of the
            iteration it resumes at.
    """

    priority = 'VERY_LOW'

    def __init__(self, schedule: Sequence[Sequence[int]]) -> None:
        try:
            schedule = [(int(start), int(threads)) for start, threads in schedule]
        except (TypeError, ValueError):
            raise ValueError('CPUThreadScheduleHook: schedule must be (iteration, threads) '
                             f'pairs, found {schedule!r}') from None
        if not schedule or any(start < 0 or threads < 1 for start, threads in schedule):
            raise ValueError('CPUThreadScheduleHook: schedule needs iterations >= 0 and thread '
                             f'counts >= 1, found {schedule}')
        self.schedule = schedule

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        threads = threads_at(self.schedule, runner.iter)
        if threads is not None and threads != torch.get_num_threads():
            print_log(
                f'CPUThreadScheduleHook: iteration {runner.iter}: '
                f'{torch.get_num_threads()} -> {threads} threads',
                logger='current')
            torch.set_num_threads(threads)


def main(argv=None) -> None:
    """``tools/train.py`` with :class:`CPUThreadScheduleHook` added from ``--thread-schedule``."""
    import argparse
    import os.path as osp
    import sys
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/
    import train as train_tool

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--thread-schedule', required=True, metavar='ITER:THREADS[,...]')
    known, rest = parser.parse_known_args(argv)
    schedule = parse_thread_schedule(known.thread_schedule)
    args = train_tool.parse_args(rest)
    cfg = train_tool.build_config(args)
    cfg.custom_hooks = list(cfg.get('custom_hooks', None)
                            or []) + [dict(type='CPUThreadScheduleHook', schedule=schedule)]
    train_tool.run(cfg)


if __name__ == '__main__':
    main()
