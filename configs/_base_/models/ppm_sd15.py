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
    head=dict(
        type='PromptMatchingHead',
        loss=dict(type='MSEMapLoss'),  # paper Eq. 4
        loss_dm_weight=1.0,
        decoder=dict(type='ArgmaxDecoder')),  # the paper's argmax
    prompt_encoder=None,
    # The per-episode prompt fit (paper Eq. 4): Adam steps, lr (paper) and
    # the std of the random prompt init, and the map mode of the fit and the
    # queries. max_batch: (prompt, image) pairs per UNet call (gradient
    # accumulation beyond it: same result). 8 keeps an episode of any size
    # (68 keypoints x 5 shots included) within 24 GB at 512 px in fp32 by the
    # projection in docs/benchmark.md (about 5.0 GB + 1.7 GB per pair); raise
    # it on larger GPUs. Speed options (fitter.early_stop, fitter.map_mode,
    # test_cfg.amp_dtype, backbone compile_cfg / gradient_checkpointing):
    # docs/benchmark.md.
    fitter=dict(
        type='PromptFitter',
        steps=100,
        lr=2e-3,
        prompt_init_std=1.0,
        map_mode=dict(type='ExactMaps', max_batch=8)),
    test_cfg=dict(seed=0))
