# The positive-only SegFormer-AV on AVSBench S4, for the visual-bias comparison: the robust config
# without negatives in training and without the similarity head; same model, schedule and robust
# test set.
_base_ = ['./segformer-av-robust_mit-b0_1xb8-30e_avsbench-robust-s4-224x224.py']

model = dict(similarity_head=None)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.train_dataloader.dataset.dataset))
custom_hooks = [dict(type='FreezeBackboneHook', freeze_epochs=5)]
