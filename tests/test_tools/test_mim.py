# Copyright (c) mmavs contributors. All rights reserved.
"""``mim train mmavs`` / ``mim test mmavs`` on a wheel install: setup.py puts configs, tools and
model-index.yml into ``mmavs/.mim``, where MIM looks for them."""
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from mmavs_testing.cli import REPO, write_tiny_config

MIM = shutil.which('mim', path=os.path.dirname(sys.executable))


def _run(args, env=None, timeout=300):
    return subprocess.run([str(a) for a in args],
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          env=env)


@pytest.fixture(scope='module')
def wheel_site(tmp_path_factory):
    """mmavs built as a wheel from this checkout and installed into a private folder."""
    root = tmp_path_factory.mktemp('mim')
    proc = _run([
        sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', REPO, '-w',
        root / 'wheel'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel = next((root / 'wheel').glob('mmavs-*.whl'))
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ('mmavs/.mim/model-index.yml', 'mmavs/.mim/tools/train.py',
                     'mmavs/.mim/tools/test.py', 'mmavs/.mim/configs/tpavi/metafile.yaml',
                     'mmavs/.mim/configs/_base_/default_runtime.py'):
        assert expected in names, expected
    proc = _run([
        sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target', root / 'site', wheel
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / 'site'


def test_mim_trains_two_iterations_and_tests(wheel_site, tiny_synth_root, tmp_path):
    assert MIM is not None, 'openmim is pinned in requirements/tests.txt'
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root)
    # 6 positives and 4 negative slots in batches of 5: two iterations
    cfg.write_text(cfg.read_text().replace('batch_size=2', 'batch_size=5'))
    env = dict(os.environ, PYTHONPATH=str(wheel_site), OMP_NUM_THREADS='1')
    work = tmp_path / 'work'
    proc = _run([MIM, 'train', 'mmavs', cfg, '--work-dir', work], env=env)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    # MIM ran the installed package's tool, not this checkout's
    assert str(wheel_site / 'mmavs' / '.mim' / 'tools' / 'train.py') in log
    assert 'Epoch(train) [1][2/2]' in log and 'Epoch(train) [1][3/' not in log
    proc = _run([
        MIM, 'test', 'mmavs', cfg, '--checkpoint', work / 'epoch_1.pth', '--work-dir',
        tmp_path / 'test'
    ],
                env=env)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    for condition in ('positive', 'silence', 'noise', 'offscreen', 'unseen'):
        assert f'{condition}/FPR' in log
