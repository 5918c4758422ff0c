# Copyright (c) mmppm contributors. All rights reserved.
"""One unambiguous name for the best checkpoint: ``{work_dir}/best.pth``."""
import os
import os.path as osp

from mmengine.hooks import Hook
from mmpose.registry import HOOKS


@HOOKS.register_module()
class BestCheckpointLinkHook(Hook):
    """Point ``{work_dir}/best.pth`` at the best checkpoint.

    mmengine's ``CheckpointHook(save_best=...)`` names the best checkpoint
    after its iteration (``best_PCK_iter_5000.pth``); commands and scripts
    can use ``best.pth`` instead. A symbolic link (relative, so the work dir
    can move); replaced only if it is a link this hook made, never a file.

    Args:
        link_name (str): Defaults to ``'best.pth'``.
    """

    priority = 'LOWEST'  # after CheckpointHook has saved the best

    def __init__(self, link_name: str = 'best.pth') -> None:
        self.link_name = link_name

    def after_val_epoch(self, runner, metrics=None) -> None:
        best = runner.message_hub.get_info('best_ckpt')
        if not best or not osp.isfile(best):
            return
        link = osp.join(runner.work_dir, self.link_name)
        if osp.lexists(link):
            if not osp.islink(link):
                runner.logger.warning(
                    f'{link} is not a link made by {type(self).__name__}; '
                    'left as is.')
                return
            os.remove(link)
        os.symlink(osp.relpath(best, runner.work_dir), link)
