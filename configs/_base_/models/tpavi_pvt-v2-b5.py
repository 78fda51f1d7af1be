# The AVSBench TPAVI model on PVT-v2-b5, in mmavs's parts: PVTv2(arch='b5') from the local
# pvt_v2_b5.pth, an FPN neck reducing every stage to 256 channels, TPAVI fusion on the four levels
# (with the release's channel LayerNorm after the residual), FPNHead with one sigmoid output, the
# frozen VGGish, and the similarity head on the last PVT stage (512 channels, before the neck).
# AVSBench's own decoder (per-stage ASPP sums and residual refinement units) is replaced by
# MMSeg's FPN + FPNHead (configs/tpavi/README.md). Model part only.
# Multi-GPU: `norm_cfg = dict(type='SyncBN', requires_grad=True)` (SyncBN does not run on CPU).
pvt_checkpoint = 'pretrained/pvt_v2_b5.pth'
vggish_checkpoint = 'pretrained/vggish-10086976.pth'
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
        type='PVTv2',
        arch='b5',
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pvt_checkpoint)),
    neck=dict(type='FPN', in_channels=[64, 128, 320, 512], out_channels=256, num_outs=4),
    audio_backbone=dict(
        type='VGGish', frozen=True, init_cfg=dict(type='Pretrained', checkpoint=vggish_checkpoint)),
    fusion=dict(
        type='TPAVIFusion',
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        audio_channels=128,
        inter_ratio=0.5,
        norm_cfg=norm_cfg,
        post_norm=True),
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
        loss_decode=[dict(type='SigmoidBCELoss', loss_weight=1.0)]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
