# Copyright (c) mmavs contributors. All rights reserved.
"""Helpers of the CLI tests: a tiny robust config on a given data root and a tool runner."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from mmavs_testing import REPO, ROBUST_S4


def write_tiny_config(path: Path,
                      data_root: Path,
                      base: str = str(ROBUST_S4.relative_to(REPO)),
                      epochs: int = 1) -> Path:
    """A config inheriting a repo config, shrunk to a few CPU iterations on ``data_root``."""
    root = str(data_root)
    path.write_text(
        f"_base_ = [{str(REPO / base)!r}]\n"
        f"max_epochs = {epochs}\n"
        "train_cfg = dict(max_epochs=max_epochs, val_interval=100)\n"
        "param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0,\n"
        "                        end=max_epochs)]\n"
        "default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3),\n"
        "                     logger=dict(interval=1))\n"
        "train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,\n"
        f"    dataset=dict(dataset=dict(data_root={root!r})))\n"
        "val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,\n"
        f"    dataset=dict(dataset=dict(data_root={root!r})))\n"
        "test_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,\n"
        f"    dataset=dict(dataset=dict(data_root={root!r})))\n")
    return path


def run_tool(args, cwd=None, timeout=300, extra_path=(), env=None):
    """Run a repo tool in a fresh interpreter; returns the CompletedProcess (stdout+stderr).

    ``extra_path`` is appended to ``PYTHONPATH`` (e.g. ``REPO / 'tests'`` for a config that
    imports ``mmavs_testing``); ``env`` adds or replaces environment variables.
    """
    path = os.pathsep.join([str(REPO)] + [str(p) for p in extra_path])
    env = dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', **(env or {}))
    return subprocess.run(
        [sys.executable] + [str(a) for a in args],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)


def load_tool(relpath: str):
    """Import a repo script by path, to call its ``main(argv)`` or functions in this process."""
    path = REPO / relpath
    spec = importlib.util.spec_from_file_location('tool_' + path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
