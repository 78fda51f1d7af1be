# Copyright (c) mmavs contributors. All rights reserved.
"""Constants and data builders shared by the API tests."""
import torch

from mmavs.evaluation import frame_statistics
from mmavs_testing import ROBUST_S4

#: The robust SynthAVS config (tiny CPU model, test pipeline Resize to 112 px).
CONFIG = ROBUST_S4

SIZE = 16


def square(n):
    """``[n, SIZE, SIZE]`` masks with an 8x8 square in the middle."""
    gt = torch.zeros(n, SIZE, SIZE, dtype=torch.long)
    gt[:, 4:12, 4:12] = 1
    return gt


def biased_run(pos_scores, neg_scores):
    """Positives segmented perfectly; every negative frame gets the salient square (visual bias)."""
    pos_gt = square(len(pos_scores))
    logits = {'positive': pos_gt.float() * 20 - 10}
    stats = {'positive': frame_statistics(logits['positive'], pos_gt)}
    scores = {'positive': torch.tensor(pos_scores, dtype=torch.float64)}
    for name, s in neg_scores.items():
        logits[name] = square(len(s)).float() * 20 - 10
        stats[name] = frame_statistics(logits[name], torch.zeros(len(s), SIZE, SIZE))
        scores[name] = torch.tensor(s, dtype=torch.float64)
    return logits, stats, scores
