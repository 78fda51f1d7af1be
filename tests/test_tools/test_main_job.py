# Copyright (c) mmavs contributors. All rights reserved.
"""The main job end to end in --quick mode: data, manifests, both trainings, calibration,
robust evaluations, comparison table, plots."""
import json
import os

from mmengine.config import Config

from mmavs_testing import BASELINE_S4, ROBUST_S4
from mmavs_testing.cli import REPO, load_tool, run_tool


def test_epochs_override_rescales_the_schedule():
    """--epochs N trains N epochs with the schedule's shape: the cosine ends at epoch N."""
    main_job = load_tool('tools/reproduce/main_job.py')
    cfg = Config.fromfile(str(ROBUST_S4))
    options = main_job.schedule_overrides(cfg, 7)
    cfg.merge_from_dict(dict(option.split('=', 1) for option in options))
    assert int(cfg.train_cfg.max_epochs) == 7
    ends = [int(s['end']) for s in cfg.param_scheduler]
    assert ends[-1] == 7 and ends[0] < 7  # the warm-up keeps its length
    # the negatives' mask warm-up keeps its share of the training (20 of 60 epochs)
    warmups = [h for h in cfg.custom_hooks if h['type'] == 'NegativeMaskWarmupHook']
    assert [int(h['warmup_epochs']) for h in warmups] == [2]
    # shorter than the warm-up: the cosine (begin 2) stays valid and simply never runs
    short = Config.fromfile(str(ROBUST_S4))
    assert 'param_scheduler.1.end=3' in main_job.schedule_overrides(short, 1)
    # a single scheduler given as a dict
    single = Config(
        dict(train_cfg=dict(max_epochs=4), param_scheduler=dict(type='ConstantLR', begin=0, end=4)))
    assert main_job.schedule_overrides(single,
                                       9) == ['train_cfg.max_epochs=9', 'param_scheduler.end=9']


def test_s4_baseline_and_robust_differ_only_in_negatives_and_similarity():
    """Same model (clip-level audio), data pipeline and schedule; the baseline has no negatives
    and no similarity head."""
    robust = Config.fromfile(str(ROBUST_S4))
    baseline = Config.fromfile(str(BASELINE_S4))
    assert robust.model.audio_level == baseline.model.audio_level == 'clip'
    assert robust.model.similarity_head is not None and baseline.model.similarity_head is None
    for key in ('backbone', 'audio_backbone', 'fusion', 'decode_head'):
        assert robust.model[key] == baseline.model[key]
    assert robust.train_cfg == baseline.train_cfg
    assert robust.param_scheduler == baseline.param_scheduler
    assert robust.optim_wrapper == baseline.optim_wrapper
    assert robust.train_dataloader.dataset.type == 'RobustTrainDataset'
    positive = robust.train_dataloader.dataset.dataset
    assert baseline.train_dataloader.dataset == positive
    loaders = [t for t in positive.pipeline if t['type'] == 'LoadAVSAudio']
    assert loaders and all(t.get('with_clip') for t in loaders)
    assert robust.test_dataloader == baseline.test_dataloader


def test_quick_main_job_writes_the_comparison(tmp_path):
    work = tmp_path / 'main_job'
    out = run_tool([
        REPO / 'tools/reproduce/main_job.py', '--quick', '--epochs', '1', '--work-dir', work,
        '--data-root', tmp_path / 'SynthAVS-quick'
    ],
                   timeout=900)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert 'positive-only baseline vs. debiased model' in out.stdout
    summary = json.loads((work / 'comparison.json').read_text())
    s4 = summary['subsets']['s4']
    conditions = {row['condition'] for row in s4['rows']}
    assert conditions == {'positive', 'silence', 'noise', 'offscreen', 'unseen', 'global'}
    assert {row['model'] for row in s4['rows']} == {'baseline', 'robust', 'robust + gate'}
    assert 0.0 <= s4['gate_thr'] <= 1.0
    spread = s4['gate_spread']  # the calibration's bootstrap over the val videos
    assert spread['videos'] == 12
    assert 0 <= spread['p5'] <= spread['median'] <= spread['p95'] <= 1
    assert f'on {spread["resamples"]} resamples of them the rule picks' in out.stdout
    assert any(c['name'].startswith('baseline shows visual bias') for c in s4['targets'])
    assert (work / 'comparison_s4.md').read_text().startswith('# SynthAVS S4')
    if (os.cpu_count() or 1) >= 2:  # the robust training takes the baseline's core when it ends
        assert 'CPU threads by iteration' in out.stdout
        log = (work / 's4' / 'robust' / 'train_stdout.log').read_text()
        assert 'CPUThreadScheduleHook: iteration' in log
    for name in ('s4_baseline_no_gate_bars.png', 's4_robust_gated_bars.png',
                 's4_similarity_before_training.png', 's4_similarity_after_training.png',
                 's4_gate_calibration.png', 's4_robust_overlays.png'):
        assert (work / 'plots' / name).stat().st_size > 0, name
    # A second run reuses the finished steps (checkpoints, evaluations) instead of redoing them.
    again = run_tool([
        REPO / 'tools/reproduce/main_job.py', '--quick', '--epochs', '1', '--work-dir', work,
        '--data-root', tmp_path / 'SynthAVS-quick'
    ],
                     timeout=900)
    assert again.returncode == 0, (again.stdout + again.stderr)[-4000:]
    assert 'training skipped' in again.stdout


def test_a_work_dir_of_another_run_is_moved_aside(tmp_path):
    main_job = load_tool('tools/reproduce/main_job.py')
    run_dir = tmp_path / 'robust'
    main_job.prepare_run_dir('robust', str(run_dir), 'a' * 64)
    (run_dir / 'epoch_4.pth').write_bytes(b'x')
    main_job.prepare_run_dir('robust', str(run_dir), 'a' * 64)  # same run: kept
    assert (run_dir / 'epoch_4.pth').is_file()
    main_job.prepare_run_dir('robust', str(run_dir), 'b' * 64)  # another run: moved aside
    assert not (run_dir / 'epoch_4.pth').exists()
    stale = [p for p in tmp_path.iterdir() if p.name.startswith('robust.stale-')]
    assert len(stale) == 1 and (stale[0] / 'epoch_4.pth').is_file()
    assert (run_dir / 'run_fingerprint.txt').read_text().strip() == 'b' * 64
    # the fingerprint follows the merged config
    config = str(ROBUST_S4)
    assert (main_job.run_fingerprint(config, ['train_cfg.max_epochs=3'])
            != main_job.run_fingerprint(config, ['train_cfg.max_epochs=4']))


def test_a_test_report_is_reused_only_for_its_checkpoint_and_gate(tmp_path):
    main_job = load_tool('tools/reproduce/main_job.py')
    ckpt, table = tmp_path / 'epoch_1.pth', tmp_path / 'robust_metrics.json'
    ckpt.write_bytes(b'weights')
    assert not main_job.report_is_current(str(table), str(ckpt), 0.5)
    table.write_text(json.dumps(dict(gate_thr=0.5)))
    assert main_job.report_is_current(str(table), str(ckpt), 0.5)
    assert not main_job.report_is_current(str(table), str(ckpt), 0.81)  # recalibrated gate
    assert main_job.report_is_current(str(table), str(ckpt), None)  # gated table not used
    table.write_text(json.dumps(dict(gate_thr=None)))  # a model without a similarity head
    assert main_job.report_is_current(str(table), str(ckpt), 0.81)
    os.utime(ckpt, (table.stat().st_mtime + 10, table.stat().st_mtime + 10))  # newer weights
    assert not main_job.report_is_current(str(table), str(ckpt), 0.81)


def test_the_longest_training_takes_the_cores_of_the_finished_ones(monkeypatch):
    """Side by side on 2 cores: one thread each, the longer training gets both from the
    iteration at which the shorter one ends; nothing changes when they run one after another or
    on one core (the quick main job below counts the iterations of the real training sets)."""
    main_job = load_tool('tools/reproduce/main_job.py')
    monkeypatch.setattr(main_job.os, 'cpu_count', lambda: 2)
    assert main_job.thread_schedules(dict(baseline=1800, robust=3000), 2) == dict(
        baseline=None, robust='0:1,1800:2')
    assert main_job.thread_schedules(dict(baseline=1800, robust=3000), 1) == dict(
        baseline=None, robust=None)
    monkeypatch.setattr(main_job.os, 'cpu_count', lambda: 1)
    assert main_job.thread_schedules(dict(baseline=1800, robust=3000), 2) == dict(
        baseline=None, robust=None)
    monkeypatch.setattr(main_job.os, 'cpu_count', lambda: 8)
    assert main_job.thread_schedules(dict(a=10, b=30), 2) == dict(a=None, b='0:4,10:8')


def test_validation_during_training_reads_the_first_val_videos_only(tiny_synth_root):
    """The full run validates during training on the first 120 of its 600 val videos; the
    calibration and the test read whole splits (their options do not carry the subset)."""
    from mmseg.registry import DATASETS

    from mmavs.utils import register_all_modules
    register_all_modules()
    main_job = load_tool('tools/reproduce/main_job.py')
    assert main_job.FULL['s4'][1] > main_job.FULL['val_videos_in_training']
    assert main_job.FULL['s4'][2] > main_job.FULL['init_test_videos']
    for name in ('robust', 'baseline'):
        cfg = Config.fromfile(str(REPO / 'configs' / 'tpavi' / main_job.CONFIGS['s4'][name]))
        options = main_job.validation_subset(cfg, 1)
        assert options == ['val_dataloader.dataset.dataset.indices=5']
        cfg.merge_from_dict(
            dict(o.split('=', 1) for o in main_job.data_root_overrides(cfg, str(tiny_synth_root))))
        cfg.merge_from_dict({options[0].split('=')[0]: 5})
        dataset = DATASETS.build(cfg.val_dataloader.dataset)
        conditions = cfg.val_dataloader.dataset.conditions
        assert len(dataset) == 5 * len(conditions)  # one video of the two, every condition
        videos = {
            dataset.dataset.get_data_info(i)['img_path'].split('/')[-2]
            for i in range(len(dataset.dataset))
        }
        assert videos == {'synth_s4_val_0000'}
        # the initial model's test run: the first test video(s) under every test condition
        options = main_job.first_videos(cfg, 'test', 1)
        assert options == ['test_dataloader.dataset.dataset.indices=5']
        cfg.merge_from_dict({options[0].split('=')[0]: 5})
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        assert len(dataset) == 5 * len(cfg.test_dataloader.dataset.conditions)
        videos = {
            dataset.dataset.get_data_info(i)['img_path'].split('/')[-2]
            for i in range(len(dataset.dataset))
        }
        assert videos == {'synth_s4_test_0000'}
