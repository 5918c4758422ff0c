# Copyright (c) mmppm contributors. All rights reserved.
"""Does a text-to-image model localise its words? (projects/toy_sd/README.md)

On held-out captioned toy scenes (indices the training never draws, plain
PPM crops, full captions), each caption word's cross-attention map is taken
as PPM takes maps (paper Eq. 2-3: sigmoid of the head-mean logit on the
chosen ``attn2`` layers, upsampled and averaged, at timestep t) and its
argmax is compared with the word's blobs. A word *localises* where the
argmax lies within ``radius`` (default 0.1) x the crop side of one of its
blobs. Three ways of reading a word's map:

- ``caption``: the word as a token of its whole encoded caption (how the
  UNet was trained; DAAM's reading of real SD);
- ``word``: the word alone as a one-token context (PPM's layout), its
  token from :func:`projects.toy_sd.models.word_embeddings`, exact UNet pass;
- ``cached``: the same token with the queries cached under a zero token
  (PPM's ``map_mode=dict(type='CachedMaps')``).

Also reported: how often the argmax lands on *some* blob of the scene, and
the chance rate of the own-blob hit (the fraction of the crop within the
radius of the word's blobs).
"""
from typing import Dict, List, Sequence

import numpy as np
import torch
from torch import Tensor

from mmppm.utils.errors import UserError
from .datasets import render_lookalike_scene, render_scene

#: First scene index of the held-out scenes (the training set has 10**6).
HELD_OUT_START = 10**7
MODES = ('caption', 'word', 'cached')


def held_out_scenes(num: int,
                    world_seed: int = 0,
                    crop_size: int = 128,
                    world: str = 'blobs') -> List[dict]:
    """``num`` scenes no training draws: full captions, no jitter; of the
    first toy world (``'blobs'``) or of the look-alike world
    (``'lookalike'``, :func:`.datasets.render_lookalike_scene`)."""
    if world == 'lookalike':
        return [
            render_lookalike_scene(world_seed, i, crop_size)
            for i in range(num)
        ]
    if world != 'blobs':
        raise UserError(f"unknown world {world!r}; choose 'blobs' or "
                        "'lookalike'")
    return [
        render_scene(
            world_seed,
            HELD_OUT_START + i,
            crop_size=crop_size,
            word_dropout=0.,
            caption_dropout=0.,
            augment=None) for i in range(num)
    ]


def argmax_hits(maps: np.ndarray, own_blobs: Sequence[np.ndarray],
                all_blobs: np.ndarray, radius: float) -> Dict[str, np.ndarray]:
    """Own-blob and any-blob hits of each word's map argmax.

    Args:
        maps (np.ndarray): ``[W, H, W']`` one map per word (crop pixels).
        own_blobs (Sequence[np.ndarray]): Per word ``[n, >=2]`` blob
            centres.
        all_blobs (np.ndarray): ``[m, >=2]`` every blob of the scene.
        radius (float): Hit distance in crop pixels (strictly below).

    Returns:
        dict: ``own`` and ``any``, bool ``[W]``.
    """
    w = maps.shape[-1]
    flat = maps.reshape(maps.shape[0], -1).argmax(-1)
    xy = np.stack([flat % w, flat // w], -1).astype(np.float32)  # [W, 2]

    def near(points, centres):
        d = np.linalg.norm(points[:, None] - centres[None, :, :2], axis=-1)
        return d.min(-1) < radius

    own = np.array(
        [near(xy[i:i + 1], np.asarray(b))[0] for i, b in enumerate(own_blobs)],
        bool)
    return dict(own=own, any=near(xy, np.asarray(all_blobs)))


def chance_rate(own_blobs: Sequence[np.ndarray], size: int,
                radius: float) -> float:
    """Mean over words of the fraction of crop pixels within ``radius`` of
    one of the word's blobs (the own-blob rate of a uniform argmax)."""
    ys, xs = np.mgrid[0:size, 0:size]
    grid = np.stack([xs, ys], -1).reshape(-1, 2).astype(np.float32)
    rates = []
    for b in own_blobs:
        d = np.linalg.norm(grid[:, None] - np.asarray(b)[None, :, :2], axis=-1)
        rates.append(float((d.min(-1) < radius).mean()))
    return float(np.mean(rates)) if rates else 0.


def scene_images(scenes: List[dict]) -> Tensor:
    """Scenes' BGR crops as SD input: RGB in [-1, 1], ``[B, 3, H, W]``."""
    bgr = np.stack([s['image'] for s in scenes])  # [B, H, W, 3]
    rgb = torch.from_numpy(bgr[..., ::-1].copy()).permute(0, 3, 1, 2)
    return rgb.float() / 127.5 - 1


@torch.no_grad()
def word_localisation(pretrained: str,
                      num_scenes: int = 64,
                      world_seed: int = 0,
                      timestep: int = 10,
                      layers: Sequence[str] = None,
                      modes: Sequence[str] = MODES,
                      radius: float = 0.1,
                      seed: int = 0,
                      batch: int = 16,
                      world: str = 'blobs') -> Dict[str, float]:
    """Word-localisation rates of an SD folder with a text encoder.

    Args:
        pretrained (str): Diffusers folder (``text_encoder/`` and
            ``tokenizer/`` needed).
        num_scenes (int): Held-out scenes. Defaults to 64.
        world_seed (int): World seed. Defaults to 0.
        timestep (int): t of the maps. Defaults to 10 (PPM's).
        layers (Sequence[str], optional): attn2 layers (None: all).
        modes (Sequence[str]): Subset of :data:`MODES`.
        radius (float): Hit radius as a fraction of the crop side.
        seed (int): Seed of the noise.
        batch (int): Scenes per UNet call.
        world (str): ``'blobs'`` (the pretraining world's held-out scenes)
            or ``'lookalike'`` (look-alike instances captioned in their
            drawn colouring; a twin word's own blobs are both twins).
            Defaults to 'blobs'.

    Returns:
        dict: ``{mode}_own`` and ``{mode}_any`` (fractions of words),
        ``chance_own``, ``num_words``, ``num_scenes``; in the look-alike
        world also ``{mode}_own_twin`` (own-blob rate of the twins'
        words).
    """
    from mmppm.models.backbones import SDCrossAttnBackbone
    from mmppm.models.backbones.text_prompts import text_embeddings
    from mmppm.models.map_modes import CachedMaps
    from mmppm.utils import load_text_components
    from .models import encode_text
    unknown = set(modes) - set(MODES)
    if unknown:
        raise UserError(f'unknown modes {sorted(unknown)}; choose from '
                        f'{MODES}')
    text = load_text_components(pretrained)
    tokenizer, encoder = text['tokenizer'], text['text_encoder'].eval()
    probe = render_scene(world_seed, HELD_OUT_START)['image']
    size = int(probe.shape[0])
    backbone = SDCrossAttnBackbone(
        pretrained=pretrained,
        timestep=timestep,
        input_size=(size, size),
        layers=layers)
    scenes = held_out_scenes(num_scenes, world_seed, size, world)
    hits = {m: dict(own=[], any=[], twin=[]) for m in modes}
    chance = []
    gen = torch.Generator().manual_seed(seed)
    cached = CachedMaps(max_batch=64).bind(
        backbone, lambda p: p,
        lambda device: torch.autocast('cpu', enabled=False))
    for start in range(0, len(scenes), batch):
        part = [s for s in scenes[start:start + batch] if s['words']]
        if not part:
            continue
        latents = backbone.encode(scene_images(part))
        noisy, _ = backbone.add_noise(latents, gen)
        if 'caption' in modes:
            context = encode_text(tokenizer, encoder,
                                  [s['caption'] for s in part])
            maps = backbone(noisy, context, (size, size))['maps']
        for b, scene in enumerate(part):
            n = len(scene['words'])
            all_blobs = np.concatenate(scene['blobs'])
            chance.append(chance_rate(scene['blobs'], size, radius * size))
            per_mode = {}
            if 'caption' in modes:
                per_mode['caption'] = maps[b, 1:n + 1].numpy()
            if 'word' in modes or 'cached' in modes:
                tokens = text_embeddings(tokenizer, encoder,
                                         scene['words'])[:, None]  # [n,1,c]
            if 'word' in modes:
                per_mode['word'] = backbone(
                    noisy[b:b + 1].expand(n, -1, -1, -1), tokens,
                    (size, size))['maps'][:, 0].numpy()
            if 'cached' in modes:
                per_mode['cached'] = cached.query_maps(
                    latents[b:b + 1], tokens, (size, size),
                    torch.Generator().manual_seed(seed))[0].numpy()
            for mode, m in per_mode.items():
                h = argmax_hits(m, scene['blobs'], all_blobs, radius * size)
                hits[mode]['own'].append(h['own'])
                hits[mode]['any'].append(h['any'])
                if 'twin' in scene:
                    hits[mode]['twin'].append(h['own'][np.asarray(
                        scene['twin'], bool)])
    out = dict(
        num_scenes=len(scenes),
        num_words=int(sum(len(s['words']) for s in scenes)),
        chance_own=float(np.mean(chance)))
    for mode, h in hits.items():
        out[f'{mode}_own'] = float(np.concatenate(h['own']).mean())
        out[f'{mode}_any'] = float(np.concatenate(h['any']).mean())
        if h['twin']:
            out[f'{mode}_own_twin'] = float(np.concatenate(h['twin']).mean())
    return out
