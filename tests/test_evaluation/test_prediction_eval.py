# Copyright (c) mmavs contributors. All rights reserved.
"""The prediction-folder evaluator on hand-made folders of the tiny SynthAVS test split."""
import json

import cv2
import numpy as np
import pytest
import torch

from mmavs.datasets.transforms.loading import read_binary_mask
from mmavs.evaluation import RobustAVSMetric
from mmavs.evaluation.prediction_eval import (MissingPredictionsError, evaluate_predictions,
                                              format_result, list_frames, write_result)
from mmavs.evaluation.prediction_io import PredictionLayout, read_prediction


def _write(folder, frames, make, layout=None):
    """Write ``make(gt) -> uint8/uint16 [H, W]`` for every frame; returns the folder."""
    layout = layout or PredictionLayout('s4')
    for f in frames:
        path = folder / layout.relpath(f.split, f.category, f.video_id, f.frame_idx)
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), make(read_binary_mask(f.gt_path)))
    return str(folder)


@pytest.fixture(scope='module')
def frames(tiny_root):
    return list_frames(str(tiny_root), 's4', 'test')


def _evaluate(tiny_root, folders, **kwargs):
    return evaluate_predictions(str(tiny_root), 's4', folders, progress=False, **kwargs)


def test_known_values_of_masks(tiny_root, frames, tmp_path):
    assert len(frames) == 15 and frames[0].frame_idx == 0  # 3 videos x 5 frames, CSV order
    folders = dict(
        positive=_write(tmp_path / 'pos', frames, lambda gt: gt * 255),
        silence=_write(tmp_path / 'sil', frames, lambda gt: np.zeros_like(gt)),
        noise=_write(tmp_path / 'noi', frames, lambda gt: np.full_like(gt, 255)),
        offscreen=_write(
            tmp_path / 'off', frames, lambda gt: np.pad(
                np.full((gt.shape[0] // 2, gt.shape[1]), 255, np.uint8), ((0, gt.shape[0] // 2),
                                                                          (0, 0)))))
    result = _evaluate(tiny_root, folders)
    rows, glob = result['no_gate']['conditions'], result['no_gate']['global']
    assert list(rows) == ['positive', 'silence', 'noise', 'offscreen']
    assert rows['positive']['mIoU'] == 1.0 and rows['positive']['F'] == pytest.approx(1.0)
    assert (rows['silence']['FPR'], rows['silence']['false_alarm']) == (0.0, 0.0)
    assert (rows['noise']['FPR'], rows['noise']['false_alarm']) == (1.0, 1.0)
    assert (rows['offscreen']['FPR'], rows['offscreen']['false_alarm']) == (0.5, 1.0)
    assert glob['G-FPR'] == pytest.approx(0.5) and glob['G-mIoU'] == pytest.approx(2 / 3)
    assert result['metrics']['silence/FPR'] == 0.0 and result['metrics']['G-FPR'] == 0.5
    assert all(r['num_frames'] == 15 for r in rows.values())
    assert 'binary masks' in ' '.join(result['notes'])
    # the files: the format of tools/test.py's robust_metrics.json, and Markdown
    json_path, md_path = write_result(result, str(tmp_path / 'out'))
    saved = json.loads(open(json_path).read())
    assert saved['no_gate']['conditions']['noise']['FPR'] == 1.0
    assert saved['metrics']['positive/mIoU'] == 1.0
    assert saved['predictions']['noise']['missing'] == 0
    assert '| offscreen |' in open(md_path).read()


def test_probability_maps_score_as_the_metric_on_the_same_maps(tiny_root, frames, tmp_path):
    rng = np.random.default_rng(0)
    maps8 = {}

    def prob8(gt):
        key = len(maps8)
        maps8[key] = (gt * rng.integers(100, 256, gt.shape) +
                      (1 - gt) * rng.integers(0, 160, gt.shape)).astype(np.uint8)
        return maps8[key]

    maps16 = {}

    def prob16(gt):
        key = len(maps16)
        maps16[key] = rng.integers(0, 65536, gt.shape).astype(np.uint16)
        return maps16[key]

    folders = dict(
        positive=_write(tmp_path / 'p8', frames, prob8),
        noise=_write(tmp_path / 'n16', frames, prob16))
    result = _evaluate(tiny_root, folders, batch_size=4)
    metric = RobustAVSMetric(gate_thr=None)
    samples = []
    for i, f in enumerate(frames):
        gt = torch.from_numpy(read_binary_mask(f.gt_path))[None]
        samples.append(
            dict(
                seg_logits=dict(data=torch.from_numpy(maps8[i])[None].float() / 255),
                gt_sem_seg=dict(data=gt)))
    for i, f in enumerate(frames):
        prob = torch.from_numpy(maps16[i].astype(np.int32))[None].float() / 65535
        samples.append(dict(seg_logits=dict(data=prob), condition='noise'))
    metric.process(None, samples)
    expected = metric.compute_report(metric.results)
    assert result['no_gate'] == expected['no_gate'] and result['metrics'] == expected['metrics']
    assert 0 < result['no_gate']['conditions']['positive']['F'] < 1
    assert result['notes'] == []  # graded maps: no remark
    # --threshold binarises: the mask of p > 0.5, F of that one mask
    binary = _evaluate(tiny_root, folders, threshold=0.5)['no_gate']['conditions']
    assert binary['positive']['mIoU'] == result['no_gate']['conditions']['positive']['mIoU']
    assert binary['noise']['FPR'] == result['no_gate']['conditions']['noise']['FPR']


def test_missing_frames_error_or_count_as_failures(tiny_root, frames, tmp_path):
    folder = tmp_path / 'pos'
    _write(folder, frames, lambda gt: gt * 255)
    silence = _write(tmp_path / 'sil', frames, lambda gt: np.zeros_like(gt))
    gone = folder / PredictionLayout('s4').relpath(frames[3].split, frames[3].category,
                                                   frames[3].video_id, 3)
    gone.unlink()
    with pytest.raises(MissingPredictionsError) as err:
        _evaluate(tiny_root, dict(positive=str(folder), silence=silence))
    assert str(gone) in str(err.value) and 'positive: 1 of 15 missing' in str(err.value)
    result = _evaluate(tiny_root, dict(positive=str(folder), silence=silence), allow_missing=True)
    rows = result['no_gate']['conditions']
    assert all(read_binary_mask(f.gt_path).any() for f in frames)  # every frame has an object
    assert rows['positive']['mIoU'] == pytest.approx(14 / 15)  # the missing frame scores 0
    assert rows['positive']['F'] == pytest.approx(14 / 15)
    assert result['predictions']['positive'] == dict(folder=str(folder), frames=15, missing=1)
    assert 'positive 1 of 15' in format_result(result)
    # a whole negative folder missing: every frame a false alarm over the whole frame
    empty = tmp_path / 'empty'
    empty.mkdir()
    result = _evaluate(tiny_root, dict(noise=str(empty)), allow_missing=True)
    assert result['no_gate']['conditions']['noise']['FPR'] == 1.0


def test_layout_hint_for_zero_based_names_without_split(tiny_root, frames, tmp_path):
    avsbench = PredictionLayout('s4', split_folder=False, first_index=0)
    folder = _write(tmp_path / 'avsbench', frames, lambda gt: gt * 255, avsbench)
    with pytest.raises(MissingPredictionsError, match='--no-split-folder --first-index 0'):
        _evaluate(tiny_root, dict(positive=folder))
    result = _evaluate(tiny_root, dict(positive=folder), layout=avsbench)
    assert result['no_gate']['conditions']['positive']['mIoU'] == 1.0


def test_bad_pngs_are_named(tiny_root, frames, tmp_path):
    folder = tmp_path / 'pos'
    _write(folder, frames, lambda gt: gt * 255)
    bad = folder / PredictionLayout('s4').relpath(frames[7].split, frames[7].category,
                                                  frames[7].video_id, frames[7].frame_idx)
    cv2.imwrite(str(bad), np.zeros((32, 48), np.uint8))
    with pytest.raises(ValueError, match=rf'expected a 64x64 prediction .* found 32x48 in {bad}'):
        _evaluate(tiny_root, dict(positive=str(folder)))
    colour = np.zeros((64, 64, 3), np.uint8)
    colour[..., 2] = 255
    cv2.imwrite(str(bad), colour)
    with pytest.raises(ValueError, match=f'found a colour image in {bad}'):
        _evaluate(tiny_root, dict(positive=str(folder)))
    bad.write_bytes(b'not a png')
    with pytest.raises(ValueError, match=f'cannot decode the prediction {bad}'):
        read_prediction(str(bad))
    with pytest.raises(ValueError, match='conditions'):
        _evaluate(tiny_root, dict(sounding=str(folder)))


def test_zero_one_masks_are_noticed_and_read_with_threshold_zero(tiny_root, frames, tmp_path):
    folder = _write(tmp_path / 'pos', frames, lambda gt: gt)  # 0/1, not 0/255
    result = _evaluate(tiny_root, dict(positive=folder))
    assert result['no_gate']['conditions']['positive']['mIoU'] < 1
    assert '--threshold 0' in ' '.join(result['notes'])
    fixed = _evaluate(tiny_root, dict(positive=folder), threshold=0.0)
    assert fixed['no_gate']['conditions']['positive']['mIoU'] == 1.0
