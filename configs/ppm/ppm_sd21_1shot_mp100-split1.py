# PPM with Stable Diffusion 2.1 (768 px, v-prediction) on MP-100 split 1,
# 1-shot. The configs of SD 1.5 with SD 2.1's native input size (the 256
# crop resized to 768: attention maps 96 / 48 / 24 / 12 wide) and the
# 1024-channel OpenCLIP context. The diffusion term's target follows the
# scheduler's prediction_type (v for this model; docs/method.md). For
# SD 2.1-base (512 px, epsilon): pretrained='stabilityai/stable-diffusion-2-1-
# base', input_size=(512, 512). Cost: docs/benchmark.md (projection).
_base_ = ['./ppm_sd15_1shot_mp100-split1.py']

sd_pretrained = 'stabilityai/stable-diffusion-2-1'
model = dict(
    backbone=dict(pretrained=sd_pretrained, input_size=(768, 768)),
    # about 2.8x the FLOPs per pair of SD 1.5 at 512 px: fewer pairs per
    # UNet call for the same memory (docs/benchmark.md)
    fitter=dict(map_mode=dict(max_batch=4)))
