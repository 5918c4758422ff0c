# Copyright (c) mmppm contributors. All rights reserved.
"""The miniature Stable Diffusion (README.md): a small text-to-image latent
diffusion model trained on captioned scenes of the toy world, so that PPM
can be run and studied on a CPU.

Importing the package registers its trainers (``ToyVAETrainer``,
``ToyLDMTrainer``) and dataset (``CaptionedToyScenes``) into mmpose's
registries; its configs name it in ``custom_imports``.
"""
from . import datasets, models  # noqa: F401
