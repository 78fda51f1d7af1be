# The positive-only SegFormer-AV on AVSBench MS3, for the visual-bias comparison; see the S4 pair.
_base_ = ['./segformer-av-robust_mit-b0_1xb8-60e_avsbench-robust-ms3-224x224.py']

model = dict(similarity_head=None)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.train_dataloader.dataset.dataset))
custom_hooks = [dict(type='FreezeBackboneHook', freeze_epochs=10)]
