# AVSBench-Robust data on AVSBench S4 (docs/robust.md): the positive data of avsbench_s4.py
# wrapped for robust training and evaluation.
# train: the authors' balanced stream, 90 % positives + 5 % off-screen + 5 % silence, fresh
#   negatives every epoch (RobustTrainDataset + RobustSampler); noise is held out of training.
# val/test: the split replicated once per condition, negatives fixed by the robust manifest
#   data/AVSBench/Single-source/robust_manifest_s4_seed42.json (written once, see below; a
#   missing CSV or manifest raises an error that names the file and the command to run).
_base_ = ['./avsbench_s4.py']

# Preparation (docs/robust.md, "Preparing AVSBench"): request AVSBench from its authors, unpack
# it as data/AVSBench/Single-source/..., then write the manifest with
#   python tools/dataset_converters/make_robust_manifest.py data/AVSBench --subset s4
neg_ratios = dict(offscreen=0.05, silence=0.05)
train_seed = 42
manifest_seed = 42
val_conditions = ('positive', 'silence', 'noise', 'offscreen')
test_conditions = ('positive', 'silence', 'noise', 'offscreen', 'unseen')

# AddNegativeAudio turns a negative's tag into a waveform; it must run before LoadAVSAudio and
# LoadAVSMask, so negatives and positives share the same featurisation.
robust_train_pipeline = [dict(type='AddNegativeAudio')] + _base_.train_pipeline
robust_test_pipeline = [dict(type='AddNegativeAudio')] + _base_.test_pipeline

train_dataloader = dict(
    sampler=dict(_delete_=True, type='RobustSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='RobustTrainDataset',
        neg_ratios=neg_ratios,
        seed=train_seed,
        dataset=dict(_base_.train_dataloader.dataset, pipeline=robust_train_pipeline)))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RobustTestDataset',
        conditions=val_conditions,
        subset='s4',
        manifest_seed=manifest_seed,
        build_manifest_if_missing=False,
        dataset=dict(_base_.val_dataloader.dataset, pipeline=robust_test_pipeline)))
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RobustTestDataset',
        conditions=test_conditions,
        subset='s4',
        manifest_seed=manifest_seed,
        build_manifest_if_missing=False,
        dataset=dict(_base_.test_dataloader.dataset, pipeline=robust_test_pipeline)))
