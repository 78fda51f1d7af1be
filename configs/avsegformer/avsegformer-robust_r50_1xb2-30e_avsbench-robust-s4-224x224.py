# AVSegFormer-robust on ResNet-50, AVSBench S4: the PVT-v2-b5 robust recipe on ResNet-50. The
# authors' CosineModule hard-codes PVT's 512 channels; here the audio is projected to the last
# ResNet stage's 2048 instead (the same rule: no visual projection, raw cosine).
_base_ = ['./avsegformer-robust_pvt-v2-b5_1xb2-30e_avsbench-robust-s4-224x224.py']
resnet_checkpoint = 'pretrained/resnet50-19c8e357.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=50,
        out_indices=(0, 1, 2, 3),
        style='pytorch',
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=resnet_checkpoint)),
    decode_head=dict(in_channels=[256, 512, 1024, 2048]),
    similarity_head=dict(visual_channels=2048, embed_dims=2048))
