# Positive-only baseline on AVSBench S4 for the visual-bias comparison: robust_s4.py without the
# negatives in training and without the similarity head; same model, schedule and robust test set.
_base_ = ['./robust_s4.py']

model = dict(similarity_head=None)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.train_dataloader.dataset.dataset))
custom_hooks = [dict(type='FreezeBackboneHook', freeze_epochs=5)]
