# Stage 2 of the toy SD: a UNet (two levels, 32/64 channels, one resnet and
# one transformer block per level) on the frozen stage-1 latents (32 x 32),
# conditioned on one learned category token of 64 channels (the prompt of
# PPM then has 64 degrees of freedom), as PPM conditions it. (8 learned part
# tokens per category, `part_tokens=8, single_token_prob=0.25`, were tried:
# worse query PCK on the toy val split, docs/toy_sd.md.)
# only_cross_attention: every attention layer attends to the context (no
# self-attention over 1,024 pixels: 4x cheaper on a CPU; the maps PPM reads
# are the attn2 layers).
# SD 1.x's DDPM schedule, t ~ U{0..999}. Run through tools/train_toy_sd.py.
_base_ = ['./toy_sd_runtime.py']

model = dict(
    type='ToyLDMTrainer',
    unet=dict(
        sample_size=32,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=('CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'),
        up_block_types=('CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'),
        cross_attention_dim=64,
        attention_head_dim=8,
        norm_num_groups=16,
        only_cross_attention=True),
    vae_pretrained='work_dirs/toy_sd/vae_export',  # set by the tool
    num_categories=64,  # >= largest category id + 1 (0: null token)
    cond_dropout=0.1,
    part_tokens=0)

train_dataloader = dict(batch_size=16)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
