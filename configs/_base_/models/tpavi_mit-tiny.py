# A very small audio-visual segmentor for CPU work (SynthAVS, tests, benchmarks): a 4-stage MiT
# with one layer per stage (16-128 channels), a trainable AudioCNN (width 16, time pooling that
# keeps the four frequency bands, 64-d embedding), TPAVI fusion on the four stages, SegformerHead
# (64 channels) with one sigmoid output, and the similarity head on the last stage. Random
# initialisation (nothing to download). Model part only.
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
        embed_dims=16,
        num_stages=4,
        num_layers=[1, 1, 1, 1],
        num_heads=[1, 2, 4, 8],
        patch_sizes=[7, 3, 3, 3],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=2,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.0),
    audio_backbone=dict(type='AudioCNN', base_channels=16, out_channels=64, pooling='time'),
    # TPAVI: an additive, zero-initialised residual of the audio on every stage
    fusion=dict(
        type='TPAVIFusion', in_channels=[16, 32, 64, 128], in_index=[0, 1, 2, 3],
        audio_channels=64),
    decode_head=dict(
        type='SegformerHead',
        in_channels=[16, 32, 64, 128],
        in_index=[0, 1, 2, 3],
        channels=64,
        dropout_ratio=0.0,
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
        visual_channels=128,
        audio_channels=64,
        embed_dims=64,
        in_index=-1,
        loss_weight=1.0),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
