# Copyright (c) mmavs contributors. All rights reserved.
"""SavePredictionsHook: the AVSBench prediction layout, masks or 16-bit probability maps."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmavs.engine.hooks import SavePredictionsHook
from mmavs.evaluation.functional import frame_statistics, quantized_statistics


def _sample(prob, **meta):
    sample = SegDataSample(metainfo=dict(meta))
    sample.seg_logits = PixelData(data=prob[None])
    sample.pred_sem_seg = PixelData(data=(prob > 0.5).long()[None])
    return sample


def test_paths_of_s4_and_ms3_and_both_formats(tmp_path):
    prob = torch.rand(6, 7, generator=torch.Generator().manual_seed(0))
    s4 = _sample(prob, video_id='vid', frame_idx=2, split='test', category='dog', condition='noise')
    ms3 = _sample(prob, video_id='clip', frame_idx=0, split='val', category='multi')
    SavePredictionsHook(str(tmp_path / 'm')).after_test_iter(None, 0, outputs=[s4, ms3])
    mask = cv2.imread(str(tmp_path / 'm/noise/test/dog/vid/vid_3.png'), cv2.IMREAD_UNCHANGED)
    assert mask.dtype == np.uint8 and np.array_equal(mask, (prob.numpy() > 0.5) * 255)
    assert (tmp_path / 'm/positive/val/clip/clip_1.png').is_file()  # MS3: no category level
    SavePredictionsHook(
        str(tmp_path / 'p'), out_format='prob').after_test_iter(
            None, 0, outputs=[s4])
    codes = cv2.imread(str(tmp_path / 'p/noise/test/dog/vid/vid_3.png'), cv2.IMREAD_UNCHANGED)
    assert codes.dtype == np.uint16
    stats = quantized_statistics(torch.from_numpy(codes.astype(np.int32))[None], 65535)
    expected = frame_statistics(prob[None], probabilities=True)
    assert all(torch.equal(stats[k], expected[k]) for k in expected)


def test_errors():
    with pytest.raises(ValueError, match='out_format'):
        SavePredictionsHook('x', out_format='jpeg')
    sample = _sample(torch.zeros(2, 2), img_path='a.png', video_id='v')
    with pytest.raises(KeyError, match=r"\['frame_idx', 'split'\] missing for a.png"):
        SavePredictionsHook('x').after_test_iter(None, 0, outputs=[sample])
