"""Oracle diffusion models: a hand-set prompt finds the keypoint through
the project's own backbone forward and decoding."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

CROP = 64


def backbone(sd_dir, oracle):
    if oracle is None:  # the production backbone
        return MODELS.build(
            dict(
                type='SDCrossAttnBackbone',
                pretrained=sd_dir,
                input_size=(CROP, CROP)))
    return MODELS.build(
        dict(
            type='OracleSDBackbone',
            pretrained=sd_dir,
            input_size=(CROP, CROP),
            oracle=oracle))


def sample(kpts, vis):
    s = PoseDataSample(
        metainfo=dict(
            input_size=(CROP, CROP),
            input_center=np.array([32., 32.]),
            input_scale=np.array([64., 64.])))
    s.gt_instances = InstanceData(
        keypoints=np.asarray(kpts, np.float32)[None],
        keypoints_visible=np.asarray(vis, np.float32)[None])
    return s


def with_keypoints(images, samples):
    """Images as OracleDataPreprocessor hands them to the model."""
    pre = MODELS.build(dict(type='OracleDataPreprocessor'))
    raw = ((images + 1) * 127.5).flip(1)  # back to BGR in [0, 255]
    out = pre(dict(inputs=raw, data_samples=samples))
    return out['inputs']


def decode(b, latents, prompts):
    noisy, _ = b.add_noise(latents, torch.Generator().manual_seed(0))
    with torch.no_grad():
        maps = b(noisy, prompts, (CROP, CROP))['maps'][:, 0]  # [B, H, W]
    flat = maps.flatten(1).argmax(1)
    return torch.stack([flat % CROP, flat // CROP], -1).float().numpy()


def test_part_oracle_ideal_prompt_finds_keypoint_n_on_every_image(
        random_sd_dir):
    b = backbone(random_sd_dir, dict(type='PartOracle', gain=4.0))
    kpts = [[[12., 40.], [50., 10.], [30., 30.]],
            [[44., 20.], [16., 52.], [36., 8.]]]
    images = torch.rand(
        2, 3, CROP, CROP, generator=torch.Generator().manual_seed(1)) * 2 - 1
    inputs = with_keypoints(images, [sample(k, [1, 1, 1]) for k in kpts])
    assert inputs.shape[1] == 3 + 1 + 3 * 3  # K, then (x, y, v) per keypoint
    torch.testing.assert_close(inputs[:, :3], images)
    latents = b.encode(inputs)
    assert latents.shape[1] == 4 + b.cross_attention_dim  # codes travel
    c = b.cross_attention_dim
    for n in range(3):
        prompt = b.oracle.ideal_prompt(n, 3, c)[None]  # [1, 1, c]
        found = decode(b, latents, prompt.expand(2, -1, -1))
        # latent cell = 8 crop px: within one cell of the keypoint
        err = np.linalg.norm(found - np.asarray(kpts)[:, n], axis=-1)
        assert (err < 8).all(), (n, found, err)


def test_positional_oracle_ideal_prompt_finds_any_pixel(random_sd_dir):
    b = backbone(random_sd_dir, dict(type='PositionalOracle', gain=4.0))
    images = torch.zeros(1, 3, CROP, CROP)
    latents = b.encode(images)
    hw = tuple(latents.shape[-2:])
    for x, y in [(10., 50.), (40., 20.), (56., 56.)]:
        prompt = b.oracle.ideal_prompt((x / 8, y / 8), hw,
                                       b.cross_attention_dim)[None]
        found = decode(b, latents, prompt)
        assert np.linalg.norm(found[0] - [x, y]) < 12, (x, y, found)


def test_noise_only_on_the_unet_latent(random_sd_dir):
    b = backbone(random_sd_dir, dict(type='PositionalOracle'))
    latents = b.encode(torch.zeros(2, 3, CROP, CROP))
    noisy, noise = b.add_noise(latents, torch.Generator().manual_seed(0))
    assert noise.shape[1] == 4
    torch.testing.assert_close(noisy[:, 4:], latents[:, 4:])


def test_part_oracle_needs_the_samples(random_sd_dir):
    b = backbone(random_sd_dir, dict(type='PartOracle'))
    with pytest.raises(ValueError, match='OracleDataPreprocessor'):
        b.encode(torch.zeros(1, 3, CROP, CROP))


def test_no_oracle_no_extra_channels(random_sd_dir):
    b = backbone(random_sd_dir, None)
    assert b.encode(torch.zeros(1, 3, CROP, CROP)).shape[1] == 4


def test_keypoint_answers_round_trip():
    from mmppm.models.oracles.oracle_data_preprocessor import (
        keypoint_answers, read_answers)
    samples = [
        sample([[16., 32.], [48., 8.]], [1, 0]),
        sample([[8., 8.], [32., 32.], [56., 60.]], [1, 1, 1])
    ]
    answers = keypoint_answers(samples)
    assert answers.shape == (2, 1 + 3 * 3)  # padded to the larger K
    (f0, v0), (f1, v1) = read_answers(answers)
    np.testing.assert_allclose(f0, [[0.25, 0.5], [0.75, 0.125]])
    np.testing.assert_array_equal(v0, [1, 0])
    np.testing.assert_allclose(f1[2], [56 / 64, 60 / 64])
    assert len(v1) == 3


def test_production_backbone_has_no_oracle_hooks(random_sd_dir):
    """The oracle's codes reach the queries through torch module hooks
    on its own UNet; the production backbone installs none."""
    plain = backbone(random_sd_dir, None)
    assert not plain.unet.conv_in._forward_pre_hooks
    oracle = backbone(random_sd_dir, dict(type='PositionalOracle'))
    assert len(oracle.unet.conv_in._forward_pre_hooks) == 1
    hooked = [
        n for n, m in oracle.unet.named_modules()
        if n.endswith('attn2.to_q') and m._forward_hooks
    ]
    assert len(hooked) == len(oracle.layer_names)


def test_production_backbone_refuses_the_oracle_inputs(random_sd_dir):
    """OracleDataPreprocessor's images reach a production backbone: one
    line naming the pairing, not a convolution's shape error."""
    inputs = with_keypoints(
        torch.zeros(1, 3, CROP, CROP), [sample([[8., 8.]], [1])])
    with pytest.raises(ValueError, match='goes with OracleSDBackbone'):
        backbone(random_sd_dir, None).encode(inputs)
