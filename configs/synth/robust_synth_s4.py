# Debiased AV segmentor on SynthAVS S4 (the main job's robust model): balanced stream with
# negatives (off-screen and silence pairs beside every positive), classifier-guided similarity
# learning and joint segmentation; evaluated under every audio condition. Tiny CPU model, trained
# from scratch.
_base_ = [
    '../_base_/models/avs_tiny_cpu.py', '../_base_/datasets/robust_synth_s4.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adamw_epochs.py'
]
# SynthAVS is small (hundreds of training clips) and the model is trained from scratch, so
# off-screen pairs are drawn more often than in the authors' AVSBench recipe (90/5/5): each epoch
# still holds every positive once, plus negatives at these shares of the stream (noise stays
# held out).
neg_ratios = dict(offscreen=0.3, silence=0.1)
train_dataloader = dict(dataset=dict(neg_ratios=neg_ratios))
# In-batch negatives between different categories (an addition to the authors' recipe): the
# similarity learns what *does* match a frame instead of only what the off-screen rule rejects, so
# held-out noise and real recordings get a low score. Weight 1.0: over two seeds on generator 1.4
# it kept 0.026 more positive mIoU than weight 0.2 at the val-calibrated gate, with every negative
# target met in both (docs/model.md).
# Clip-level audio for the fusion and the similarity (S4: one object sounds all clip long; the
# paper's similarity scores the clip-level embedding): a frame whose second falls into a pause of
# the sound is still matched, and noise or off-screen audio is judged on the whole clip.
# Mask pooling: the similarity compares the sound with the object the decoder segments (stages 3
# and 4 pooled under its mask) rather than with the whole frame, where a silent object of another
# category can outweigh the sounding one (docs/model.md, "Mask pooling and the negatives'
# warm-up").
model = dict(
    fusion_audio='clip',
    similarity_audio='clip',
    similarity_head=dict(
        in_batch_negatives=True,
        in_batch_rule='category',
        in_batch_weight=1.0,
        pooling='mask',
        in_index=(2, 3),
        visual_channels=64 + 128))
# 60 epochs over the 720 training clips of the main job's SynthAVS (4500 iterations). The debiased
# model learns the positives more slowly than the baseline (it must also learn when *not* to
# segment): at 40 epochs it was still improving (val positive mIoU +0.036 from epoch 20 to 40, the
# baseline +0.0035) and ended below the baseline (docs/model.md).
max_epochs = 60
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.01), clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=2, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=20)
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=2))
# The negatives' mask losses ramp up from 0 over the first 20 epochs (the similarity loss trains
# from the start): the model learns what an object is before it learns when not to segment one;
# without the ramp the negatives' empty masks are what holds the positives back (docs/model.md).
custom_hooks = [
    dict(type='SimilarityLoggerHook'),
    dict(type='NegativeMaskWarmupHook', warmup_epochs=20),
]
