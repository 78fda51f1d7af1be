# AVSBench-Robust data on SynthAVS MS3 (docs/robust.md): the positive data of synth_ms3.py
# wrapped for robust training and evaluation.
# train: the authors' balanced stream, 90 % positives + 5 % off-screen + 5 % silence, fresh
#   negatives every epoch (RobustTrainDataset + RobustSampler); noise is held out of training.
# val/test: the split replicated once per condition, negatives fixed by the robust manifest
#   (generated on first use when missing, or beforehand with
#   python tools/dataset_converters/make_robust_manifest.py data/SynthAVS --subset ms3).
_base_ = ['./synth_ms3.py']

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
        subset='ms3',
        manifest_seed=manifest_seed,
        build_manifest_if_missing=True,
        dataset=dict(_base_.val_dataloader.dataset, pipeline=robust_test_pipeline)))
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RobustTestDataset',
        conditions=test_conditions,
        subset='ms3',
        manifest_seed=manifest_seed,
        build_manifest_if_missing=True,
        dataset=dict(_base_.test_dataloader.dataset, pipeline=robust_test_pipeline)))
