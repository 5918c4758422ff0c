# PPM with SDXL base 1.0 (1024 px, epsilon) on MP-100 split 1, 1-shot.
# The configs of SD 1.5 with SDXL's native input size (the 256 crop resized
# to 1024: attention maps of its 70 attn2 layers 64 / 32 wide) and its
# 2048-channel context. SDXL's UNet also takes a pooled text embedding and
# six time ids in every forward: the backbone passes zeros and the input
# size with the prompt-only context (this config), or the empty prompt's
# with context_layout='empty_text' (docs/method.md). 2.6 B UNet parameters:
# bfloat16 autocast on a GPU, few pairs per UNet call. Cost:
# docs/benchmark.md (projection).
_base_ = ['./ppm_sd15_1shot_mp100-split1.py']

sd_pretrained = 'stabilityai/stable-diffusion-xl-base-1.0'
model = dict(
    backbone=dict(pretrained=sd_pretrained, input_size=(1024, 1024)),
    fitter=dict(map_mode=dict(max_batch=2)),
    test_cfg=dict(amp_dtype='bfloat16'))
