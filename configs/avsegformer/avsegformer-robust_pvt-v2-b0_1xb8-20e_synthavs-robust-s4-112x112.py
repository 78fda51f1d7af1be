# AVSegFormer-robust at CPU size on SynthAVS S4, trained from scratch: PVT-v2-b0, a narrow head (64
# channels, 2 + 2 + 2 layers, 50 queries) and the trainable AudioCNN in place of VGGish. For CPU
# runs and tests of the AVSegFormer code path through tools/train.py and tools/test.py; the paper's
# model is avsegformer-robust_pvt-v2-b5_1xb2-30e_avsbench-robust-s4-224x224.py.
_base_ = [
    '../_base_/models/avsegformer_pvt-v2-b5.py', '../_base_/datasets/synthavs-robust_s4.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adamw_epochs.py'
]
model = dict(
    backbone=dict(arch='b0', init_cfg=None),
    audio_backbone=dict(
        _delete_=True, type='AudioCNN', base_channels=16, out_channels=64, pooling='time'),
    audio_neck=dict(in_channels=64, out_channels=64),
    decode_head=dict(
        in_channels=[32, 64, 160, 256],
        channels=64,
        num_queries=50,
        num_encoder_layers=2,
        num_decoder_layers=2,
        num_generator_layers=2,
        ffn_channels=256,
        generator_ffn_channels=128,
        query_mlp_channels=128,
        num_groups=16,
        predictor_channels=(32, 16),
        loss_decode=[dict(type='EmptySafeDiceLoss'),
                     dict(type='SigmoidBCELoss')],
        loss_mix=[dict(type='EmptySafeDiceLoss', loss_weight=0.1)]),
    similarity_head=dict(
        type='SimilarityHead',
        visual_channels=256,
        audio_channels=64,
        embed_dims=256,
        in_index=3,
        project_visual=False,
        learnable=False,
        scale=1.0,
        bias=0.0))
train_dataloader = dict(batch_size=8, dataset=dict(neg_ratios=dict(offscreen=0.05, silence=0.05)))
max_epochs = 20
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=2))
custom_hooks = [dict(type='SimilarityLoggerHook')]
