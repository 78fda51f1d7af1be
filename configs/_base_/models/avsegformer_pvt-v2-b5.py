# AVSegFormer (Gao et al., AAAI 2024) on PVT-v2-b5: the frozen VGGish embedding is projected to the
# transformer's width (AudioProjection, trainable) and read by the decode head, which fuses it
# itself (AVSegFormerHead: deformable encoder, audio queries, decoder, CrossModalMixer, predictor).
# Model part only. The pretrained weights are local files, never downloaded: pvt_v2_b5.pth (the
# PVT-v2 release) and vggish-10086976.pth (torchvggish), checked with
#   python tools/misc/check_checkpoints.py pretrained/
pvt_checkpoint = 'pretrained/pvt_v2_b5.pth'
vggish_checkpoint = 'pretrained/vggish-10086976.pth'
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
    audio_backbone=dict(
        type='VGGish', frozen=True, init_cfg=dict(type='Pretrained', checkpoint=vggish_checkpoint)),
    audio_neck=dict(type='AudioProjection', in_channels=128, out_channels=256),
    decode_head=dict(
        type='AVSegFormerHead',
        in_channels=[64, 128, 320, 512],
        channels=256,
        num_queries=300,
        num_heads=8,
        num_encoder_layers=6,
        num_decoder_layers=6,
        num_generator_layers=6,
        ffn_channels=2048,
        generator_ffn_channels=1024,
        query_mlp_channels=2048,
        num_points=4,
        dropout=0.1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        align_corners=False,
        # the authors' losses: Dice on the mask, 0.1 x Dice on the mask feature's channel mean
        loss_decode=[dict(type='EmptySafeDiceLoss', empty_mode='none', loss_weight=1.0)],
        loss_mix=[dict(type='EmptySafeDiceLoss', empty_mode='none', loss_weight=0.1)]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
