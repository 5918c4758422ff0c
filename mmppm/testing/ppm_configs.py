# Copyright (c) mmppm contributors. All rights reserved.
"""A small PPM config on tiny data, shared by the API, demo and hook tests
(the tiny toy set itself is the ``toy_data`` fixture of tests/conftest.py,
generated with :data:`TOY_KWARGS`), and a PPM estimator built on a given
SD folder for the model tests."""
import os.path as osp

from mmengine.config import Config

# The checkout's root: the configs are files of the repository, not of the
# package (mmppm is installed editable, tools/install.sh).
REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOY_CONFIG = osp.join(REPO, 'configs', 'ppm', 'ppm_random-sd_1shot_toy.py')
CROP = 64  # crop, map and SD input size of the tests
TOY_KWARGS = dict(
    seed=0,
    num_categories=(1, 1, 1),
    instances_per_category=6,
    num_keypoints=(5, 6))


def small_config(sd_dir: str, data_root: str, steps: int = 2) -> Config:
    """The toy config at ``CROP`` pixels, 2 episodes of 1 + 2 images."""
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.model.backbone.pretrained = sd_dir
    cfg.model.backbone.input_size = (CROP, CROP)
    cfg.model.fitter.steps = steps
    dataset = cfg.test_dataloader.dataset
    for key in ('pipeline', 'query_pipeline'):
        for t in dataset[key]:
            if t['type'] == 'TopdownAffine':
                t['input_size'] = (CROP, CROP)
            if t['type'] == 'GenerateTarget':
                t['encoder'] = dict(
                    t['encoder'],
                    input_size=(CROP, CROP),
                    heatmap_size=(CROP, CROP))
    dataset.update(
        data_root=str(data_root) + '/', num_episodes=2, num_queries=2)
    cfg.log_level = 'WARNING'
    return cfg


def write_config(cfg: Config, path) -> str:
    cfg.dump(str(path))
    return str(path)


def estimator_cfg(sd_dir: str, **parts) -> dict:
    """A ``PPMEstimator`` config on the SD in ``sd_dir`` at 64 x 64 pixels;
    ``parts`` (``fitter``, ``head``, ``prompt_encoder``, ``test_cfg``,
    ``train_cfg``) as given, the estimator's defaults otherwise."""
    return dict(
        type='PPMEstimator',
        backbone=dict(
            type='SDCrossAttnBackbone', pretrained=sd_dir,
            input_size=(64, 64)),
        **parts)


def feature_matching_cfg(sd_dir: str, **args) -> dict:
    """A ``FeatureMatchingBaseline`` config on the SD in ``sd_dir`` at 64 x
    64 pixels; ``args`` (``feature_layers``, ``ensemble``, ``seed``,
    ``fusion``) as given, the baseline's defaults otherwise."""
    return dict(estimator_cfg(sd_dir, **args), type='FeatureMatchingBaseline')


#: ``PromptFitter`` arguments among :func:`build_ppm_estimator`'s keywords.
FIT_KEYS = ('steps', 'lr', 'prompt_init_std', 'prompt_scale', 'early_stop',
            'shots_per_step')


def build_ppm_estimator(sd_dir: str,
                        map_mode: str = 'ExactMaps',
                        max_batch: int = 64,
                        **cfg):
    """A ``PPMEstimator`` on the SD in ``sd_dir`` at 64 x 64 pixels: 3 fit
    steps at lr 0.05 with ``map_mode`` (``max_batch`` pairs per UNet call),
    seed 0; fitter arguments in ``cfg`` (:data:`FIT_KEYS`) go to
    ``model.fitter``, the rest to ``model.test_cfg``."""
    from mmpose.registry import MODELS
    fitter = dict(
        type='PromptFitter',
        steps=3,
        lr=0.05,
        map_mode=dict(type=map_mode, max_batch=max_batch))
    fitter.update({k: cfg.pop(k) for k in FIT_KEYS if k in cfg})
    return MODELS.build(
        estimator_cfg(
            sd_dir, fitter=fitter, test_cfg=dict(dict(seed=0), **cfg)))
