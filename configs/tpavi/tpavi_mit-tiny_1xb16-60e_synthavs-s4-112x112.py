# The positive-only baseline on SynthAVS S4: the robust config without negatives in training and
# without the similarity head (the only two differences); same model, schedule and robust
# evaluation.
_base_ = ['./tpavi-robust_mit-tiny_1xb16-60e_synthavs-robust-s4-112x112.py']

model = dict(similarity_head=None)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.train_dataloader.dataset.dataset))
custom_hooks = []
