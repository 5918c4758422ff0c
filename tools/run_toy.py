"""The README's main job on the bundled toy setup (offline, CPU-friendly).

Builds what is missing -- a tiny random-weight Stable Diffusion folder
(``data/tiny_sd``, written with ``save_pretrained``) -- and runs a backbone
smoke run that prints the attention-map shapes.
"""
import argparse
import os
import os.path as osp
import sys

os.environ.setdefault('HF_HUB_OFFLINE', '1')
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def ensure_tiny_sd(folder: str) -> str:
    from mmppm.utils import save_random_sd
    if not osp.isfile(osp.join(folder, 'model_index.json')):
        print(f'Building a tiny random-weight SD in {folder}')
        save_random_sd(folder, arch='tiny', seed=0)
    return folder


def smoke(sd_dir: str) -> None:
    import torch

    from mmppm.models import SDCrossAttnBackbone
    backbone = SDCrossAttnBackbone(sd_dir, input_size=(256, 256))
    g = torch.Generator().manual_seed(0)
    images = torch.rand(2, 3, 256, 256, generator=g) * 2 - 1
    zt, _ = backbone.add_noise(backbone.encode(images), g)
    prompts = torch.randn(2, 3, backbone.cross_attention_dim, generator=g)
    out = backbone(zt, prompts, map_size=(256, 256))
    for name, m in out['layer_maps'].items():
        print(f'{name[:-len(".processor")]:60s} {tuple(m.shape)}')
    print('multi-layer maps', tuple(out['maps'].shape), 'noise_pred',
          tuple(out['noise_pred'].shape))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--sd-dir', default=osp.join(REPO, 'data/tiny_sd'))
    args = parser.parse_args()
    import mmppm  # noqa: F401
    smoke(ensure_tiny_sd(args.sd_dir))


if __name__ == '__main__':
    main()
