# PPM (no CPT) with Stable Diffusion 1.5 on MP-100 split 4, 5-shot test.
# SD weights: model.backbone.pretrained (hub id or local diffusers folder).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/ppm_sd15.py',
    '../_base_/datasets/mp100_episodes.py'
]

split = 4
shots = 5
val_dataloader = dict(
    dataset=dict(
        ann_file=f'annotations/mp100_split{split}_val.json', shots=shots))
test_dataloader = dict(
    dataset=dict(
        ann_file=f'annotations/mp100_split{split}_test.json', shots=shots))
