# PPM (no CPT) with Stable Diffusion 1.5 on MP-100 split 3, 1-shot test.
# SD weights: model.backbone.pretrained (hub id or local diffusers folder).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/ppm_sd15.py',
    '../_base_/datasets/mp100_episodes.py'
]

val_dataloader = dict(
    dataset=dict(ann_file='annotations/mp100_split3_val.json'))
test_dataloader = dict(
    dataset=dict(ann_file='annotations/mp100_split3_test.json'))
