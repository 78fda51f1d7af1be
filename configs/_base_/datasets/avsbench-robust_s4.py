# AVSBench S4 (single source), official layout under data/AVSBench (Single-source/...), 224 px,
# under AVSBench-Robust (docs/robust.md).
# train: the authors' balanced stream, 90 % positives + 5 % off-screen + 5 % silence, fresh
#   negatives every epoch (RobustTrainDataset + RobustSampler); noise is held out of training. A
#   positive-only baseline replaces it by the inner dataset.
# val/test: each split replicated once per audio condition, negatives fixed by the robust
#   manifest data/AVSBench/Single-source/robust_manifest_s4_seed42.json, written once with
#   python tools/dataset_converters/make_robust_manifest.py data/AVSBench --subset s4
#   (a missing CSV or manifest raises an error that names the file and the command to run).
# The robust wrappers put AddNegativeAudio first in the wrapped pipelines: negatives and
# positives go through the same audio featurisation. Image and mask share every geometric
# transform; audio has none.
dataset_type = 'AVSBenchS4Dataset'
data_root = 'data/AVSBench'
img_scale = (224, 224)
crop_size = (224, 224)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio', use_cache=True),
    dict(type='RandomResize', scale=img_scale, ratio_range=(1.0, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVSegInputs'),
]
# Masks are loaded after Resize, at the original size: predictions are scored at ori_shape.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio', use_cache=True),
    dict(type='PackAVSegInputs'),
]
val_conditions = ('positive', 'silence', 'noise', 'offscreen')
test_conditions = ('positive', 'silence', 'noise', 'offscreen', 'unseen')

# Exact resume (docs/reliability.md): workers are seeded from torch's per-epoch worker seed, and
# are not persistent (a persistent worker's random stream cannot be checkpointed).
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=False,
    worker_init_fn=dict(type='seed_worker_from_loader'),
    sampler=dict(type='RobustSampler', shuffle=True),
    dataset=dict(
        type='RobustTrainDataset',
        neg_ratios=dict(offscreen=0.05, silence=0.05),
        seed=42,
        dataset=dict(
            type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RobustTestDataset',
        conditions=val_conditions,
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            split='val',
            pipeline=test_pipeline,
            test_mode=True)))
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RobustTestDataset',
        conditions=test_conditions,
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            split='test',
            pipeline=test_pipeline,
            test_mode=True)))
val_evaluator = dict(type='RobustAVSMetric')
test_evaluator = dict(type='RobustAVSMetric')
