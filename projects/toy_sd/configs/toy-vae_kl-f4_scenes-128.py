# Stage 1 of the toy SD: AutoencoderKL with 4x downsampling (128 px crops of
# the captioned pretraining scenes -> 32 x 32 x 4 latents; captions unused).
# No mid-block attention: fully convolutional, so it trains on 64 px patches
# (4x cheaper) and runs on any size. L1 + 1e-6 KL.
# Run through projects/toy_sd/tools/train_toy_sd.py (README.md).
_base_ = ['./toy_sd_runtime.py']

model = dict(
    type='ToyVAETrainer',
    vae=dict(
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 64, 64),
        down_block_types=('DownEncoderBlock2D', ) * 3,
        up_block_types=('UpDecoderBlock2D', ) * 3,
        layers_per_block=1,
        norm_num_groups=16,
        latent_channels=4,
        sample_size=128,
        mid_block_add_attention=False),
    kl_weight=1e-6,
    train_patch=64)

train_dataloader = dict(batch_size=8)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
