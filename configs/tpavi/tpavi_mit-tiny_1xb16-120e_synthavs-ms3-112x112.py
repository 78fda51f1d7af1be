# The positive-only baseline on SynthAVS MS3; see tpavi_mit-tiny_1xb16-60e_synthavs-s4-112x112.py.
_base_ = ['./tpavi-robust_mit-tiny_1xb16-120e_synthavs-robust-ms3-112x112.py']

model = dict(similarity_head=None)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.train_dataloader.dataset.dataset))
custom_hooks = []
