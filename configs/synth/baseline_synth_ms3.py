# Positive-only baseline on SynthAVS MS3; see baseline_synth_s4.py.
_base_ = ['./robust_synth_ms3.py']

model = dict(similarity_head=None)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.train_dataloader.dataset.dataset))
custom_hooks = []
