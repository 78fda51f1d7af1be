# AV segmentor, AVSBench (TPAVI) family: ResNet-50-V1c visual backbone (MMSeg), FPN neck reducing
# every stage to 256 channels, TPAVI fusion on the four FPN levels, FPNHead with one sigmoid output,
# frozen VGGish audio backbone, similarity head on the last ResNet stage (2048 channels, before the
# neck). Model part only. Weights are never downloaded: set `model.backbone.init_cfg=dict(
# type='Pretrained', checkpoint=<local resnet50_v1c.pth>)` and the VGGish checkpoint path
# (`model.audio_backbone.init_cfg`) in the experiment config.
# Multi-GPU: `norm_cfg = dict(type='SyncBN', requires_grad=True)` (SyncBN does not run on CPU).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='AVSegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
model = dict(
    type='AVSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=4),
    audio_backbone=dict(type='VGGish', frozen=True),
    fusion=dict(
        type='TPAVIFusion',
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        audio_channels=128,
        inter_ratio=0.5,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='FPNHead',
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=128,
        dropout_ratio=0.1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(type='SigmoidBCELoss', loss_weight=1.0),
            dict(type='EmptySafeIoULoss', loss_weight=1.0),
        ]),
    similarity_head=dict(
        type='SimilarityHead',
        visual_channels=2048,
        audio_channels=128,
        embed_dims=256,
        in_index=-1,
        loss_weight=1.0),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
