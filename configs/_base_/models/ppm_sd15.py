# PPM on Stable Diffusion 1.5 (hub id; or a local diffusers folder).
sd_pretrained = 'runwayml/stable-diffusion-v1-5'
sd_input_size = (512, 512)  # size fed to SD (the 256 x 256 crop resized)

model = dict(
    type='PPMEstimator',
    data_preprocessor=dict(type='EpisodeDataPreprocessor'),
    backbone=dict(
        type='SDCrossAttnBackbone',
        pretrained=sd_pretrained,
        timestep=10,
        input_size=sd_input_size,
        layers=None,  # all attn2 layers
        map_reduction='head_mean',
        context_layout='prompt'),
    head=dict(type='PromptMatchingHead', loss_dm_weight=1.0, subpixel=None),
    prompt_encoder=None,
    # max_batch: (prompt, image) pairs per UNet call (gradient accumulation
    # beyond it: same result). 8 keeps an episode of any size (68 keypoints
    # x 5 shots included) within 24 GB at 512 px in fp32 by the projection in
    # docs/benchmark.md (about 5.0 GB + 1.7 GB per pair); raise it on larger
    # GPUs. Speed options (early_stop, map_features, amp_dtype, backbone
    # compile_cfg / gradient_checkpointing): docs/benchmark.md.
    test_cfg=dict(
        steps=100, lr=2e-3, prompt_init_std=1.0, max_batch=8, seed=0))
