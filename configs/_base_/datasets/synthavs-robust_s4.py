# SynthAVS S4-like split (tools/dataset_converters/make_synth_avs.py data/SynthAVS) under
# AVSBench-Robust (docs/robust.md); 224 px frames, trained and tested at 112 px for CPU work.
# train: the balanced stream of positives and negatives, resampled every epoch (RobustTrainDataset
#   + RobustSampler; the authors' 90 % positives + 5 % off-screen + 5 % silence by default, noise
#   held out). A positive-only baseline replaces it by the inner dataset (see the tpavi configs).
# val/test: each split replicated once per audio condition, negatives fixed by the robust
#   manifest (generated on first use when missing, or beforehand with
#   python tools/dataset_converters/make_robust_manifest.py data/SynthAVS --subset s4).
# The robust wrappers put AddNegativeAudio first in the wrapped pipelines: negatives and
# positives go through the same audio featurisation.
dataset_type = 'AVSBenchS4Dataset'
data_root = 'data/SynthAVS'
img_scale = (112, 112)
crop_size = (112, 112)
# Decoded frames, masks and log-mel clips kept in memory by each loading process: SynthAVS is
# small, and a robust evaluation reads every frame once per audio condition (about 0.35 MB per
# frame with its mask and clip).
decode_cache_size = 4096

train_pipeline = [
    dict(type='LoadAVSFrame', cache_size=decode_cache_size),
    dict(type='LoadAVSMask', cache_size=decode_cache_size),
    # with_clip: every second of the clip too, for clip-level audio
    dict(type='LoadAVSAudio', use_cache=True, with_clip=True, cache_size=decode_cache_size),
    dict(type='RandomResize', scale=img_scale, ratio_range=(1.0, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVSegInputs'),
]
# Masks are loaded after Resize, at the original size: predictions are scored at ori_shape.
test_pipeline = [
    dict(type='LoadAVSFrame', cache_size=decode_cache_size),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAVSMask', cache_size=decode_cache_size),
    dict(type='LoadAVSAudio', use_cache=True, with_clip=True, cache_size=decode_cache_size),
    dict(type='PackAVSegInputs'),
]
val_conditions = ('positive', 'silence', 'noise', 'offscreen')
test_conditions = ('positive', 'silence', 'noise', 'offscreen', 'unseen')

# num_workers=0: on a 2-core CPU machine loader processes compete with the model's threads for
# the cores; raise it on bigger machines.
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='RobustSampler', shuffle=True),
    dataset=dict(
        type='RobustTrainDataset',
        neg_ratios=dict(offscreen=0.05, silence=0.05),
        seed=42,
        dataset=dict(
            type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RobustTestDataset',
        conditions=val_conditions,
        build_manifest_if_missing=True,
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            split='val',
            pipeline=test_pipeline,
            test_mode=True)))
test_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RobustTestDataset',
        conditions=test_conditions,
        build_manifest_if_missing=True,
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            split='test',
            pipeline=test_pipeline,
            test_mode=True)))
val_evaluator = dict(type='RobustAVSMetric')
test_evaluator = dict(type='RobustAVSMetric')
