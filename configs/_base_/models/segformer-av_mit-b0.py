# AV segmentor, SegFormer family: MiT-b0 visual backbone (MMSeg), frozen VGGish audio backbone,
# AVSegFormer-style channel-gate fusion on the four stages, SegformerHead with one sigmoid output,
# similarity head on the last MiT stage. Model part only: datasets/schedules come from other bases.
# Pretrained weights are never downloaded: set `model.backbone.init_cfg=dict(type='Pretrained',
# checkpoint=<local mit_b0.pth>)` and `model.audio_backbone.init_cfg=dict(type='Pretrained',
# checkpoint=<local vggish-10086976.pth>)` in the experiment config.
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
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=32,
        num_stages=4,
        num_layers=[2, 2, 2, 2],
        num_heads=[1, 2, 5, 8],
        patch_sizes=[7, 3, 3, 3],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=4,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1),
    audio_backbone=dict(type='VGGish', frozen=True),
    fusion=dict(
        type='ChannelGateFusion',
        in_channels=[32, 64, 160, 256],
        in_index=[0, 1, 2, 3],
        audio_channels=128,
        num_heads=8,
        use_attention=True),
    decode_head=dict(
        type='SegformerHead',
        in_channels=[32, 64, 160, 256],
        in_index=[0, 1, 2, 3],
        channels=256,
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
        visual_channels=256,
        audio_channels=128,
        embed_dims=256,
        in_index=-1,
        scale=10.0,
        bias=0.0,
        learnable=True,
        loss_weight=1.0),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
