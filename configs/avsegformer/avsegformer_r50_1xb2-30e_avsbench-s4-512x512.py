# AVSegFormer on ResNet-50, AVSBench S4: the PVT-v2-b5 S4 recipe on MMSeg's ResNet-50 (torchvision
# layout, stride on the 3x3 conv, from a local torchvision resnet50-19c8e357.pth), the head's
# inputs widened to its stages.
_base_ = ['./avsegformer_pvt-v2-b5_1xb2-30e_avsbench-s4-512x512.py']
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
    decode_head=dict(in_channels=[256, 512, 1024, 2048]))
