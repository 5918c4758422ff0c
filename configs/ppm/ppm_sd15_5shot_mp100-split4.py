# PPM (no CPT) with Stable Diffusion 1.5 on MP-100 split 4, 5-shot test.
_base_ = ['./ppm_sd15_1shot_mp100-split4.py']

val_dataloader = dict(dataset=dict(shots=5))
test_dataloader = dict(dataset=dict(shots=5))
