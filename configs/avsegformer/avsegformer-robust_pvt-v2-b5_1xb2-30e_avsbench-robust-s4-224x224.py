# AVSegFormer-robust (AVSBench-Robust, Li et al.) on PVT-v2-b5, AVSBench S4, the authors' recipe:
# the balanced stream (90 % positives, 5 % off-screen, 5 % silence; noise held out) trained at the
# frames' own 224 px and evaluated at 512 px, AdamW 2e-5 for 30 epochs, backbone frozen for 5,
# VGGish frozen, and their similarity head (CosineModule): the projected audio through a Linear
# 256 -> 512 against the average-pooled last PVT stage, the raw cosine as the logit of a BCE of
# weight 1. One deviation, stated: the mask and mix losses are the empty-safe Dice (the authors'
# Dice has no gradient on the negatives' empty masks).
_base_ = [
    '../_base_/models/avsegformer_pvt-v2-b5.py', '../_base_/datasets/avsbench-robust_s4-512x512.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_avsegformer.py'
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio', use_cache=True),
    dict(type='PackAVSegInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(dataset=dict(pipeline=train_pipeline)))
model = dict(
    decode_head=dict(
        loss_decode=[dict(type='EmptySafeDiceLoss', loss_weight=1.0)],
        loss_mix=[dict(type='EmptySafeDiceLoss', loss_weight=0.1)]),
    similarity_head=dict(
        type='SimilarityHead',
        visual_channels=512,
        audio_channels=256,
        embed_dims=512,
        in_index=3,
        project_visual=False,
        learnable=False,
        scale=1.0,
        bias=0.0,
        pooling='avg',
        loss_weight=1.0))
custom_hooks = [
    dict(type='FreezeBackboneHook', freeze_epochs=5),
    dict(type='SimilarityLoggerHook'),
]
model_wrapper_cfg = dict(find_unused_parameters=True)
