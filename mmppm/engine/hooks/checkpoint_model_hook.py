# Copyright (c) mmppm contributors. All rights reserved.
"""A checkpoint is tested as the model it was trained as."""
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from ..checkpoint_meta import check_prompt_encoder


@HOOKS.register_module()
class CheckpointModelHook(Hook):
    """Before a checkpoint's weights load, compare the CPT prompt encoder
    its saved config trained (``checkpoint['meta']['cfg']``, read as
    literals, never run) with the one this config builds: a residual
    ``Phi`` tested as a plain one has the same weight names and loaded
    silently, with wrong maths (:mod:`mmppm.engine.checkpoint_meta`)."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        check_prompt_encoder(
            checkpoint.get('meta'), runner.cfg.get('model'),
            runner.cfg.get('load_from') or 'loaded')
