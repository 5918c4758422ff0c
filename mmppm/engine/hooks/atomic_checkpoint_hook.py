# Copyright (c) mmppm contributors. All rights reserved.
"""Checkpoints that are saved whole or not at all (docs/reliability.md)."""
import os.path as osp
from typing import Any

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmpose.registry import HOOKS

from mmppm.utils.atomic_io import atomic_write

#: The checkpoint hook types :func:`use_atomic_checkpoints` replaces.
PLAIN_TYPES = ('CheckpointHook', 'mmengine.CheckpointHook', CheckpointHook)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with all-or-nothing saves.

    - ``iter_N.pth`` is written beside, ``fsync``'d and renamed
      (:class:`mmppm.utils.atomic_io.AtomicLocalBackend`), so a disk that
      fills up or a process killed during a save leaves no truncated
      checkpoint;
    - ``last_checkpoint`` is replaced the same way, after the checkpoint it
      names is complete;
    - the checkpoint that ``max_keep_ckpts`` drops is removed *after* the
      new one is saved (mmengine removes it before), so a failed save
      leaves the previous checkpoints as they were and ``--resume``
      continues from the newest of them.

    The cost: for a moment one more checkpoint is on disk. Arguments are
    ``CheckpointHook``'s; ``backend_args`` defaults to the atomic local
    backend for a local ``out_dir``.
    """

    def __init__(self,
                 *args,
                 backend_args=None,
                 file_client_args=None,
                 **kwargs) -> None:
        out_dir = kwargs.get('out_dir')
        if backend_args is None and file_client_args is None and (
                out_dir is None or '://' not in str(out_dir)):
            backend_args = dict(backend='mmppm_atomic_local')
        super().__init__(
            *args,
            backend_args=backend_args,
            file_client_args=file_client_args,
            **kwargs)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save, publish in ``last_checkpoint``, then drop the oldest (the
        steps of mmengine 0.10's method in a safe order)."""
        hub = runner.message_hub
        keep = self.keep_ckpt_ids if self.max_keep_ckpts > 0 else None
        before = (list(keep or ()), self.last_ckpt,
                  hub.get_info('keep_ckpt_ids'), hub.get_info('last_ckpt'))
        dropped = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                dropped = self.keep_ckpt_ids.popleft()  # a bounded deque
            self.keep_ckpt_ids.append(step)
            hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        # in the checkpoint's message hub, as mmengine has them
        hub.update_info('last_ckpt', self.last_ckpt)
        try:
            runner.save_checkpoint(
                self.out_dir,
                ckpt_filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        except BaseException:  # nothing was written: undo the bookkeeping
            if keep is not None:
                keep.clear()
                keep.extend(before[0])
            self.last_ckpt = before[1]
            for key, value in (('keep_ckpt_ids', before[2]), ('last_ckpt',
                                                              before[3])):
                if value is not None:
                    hub.update_info(key, value)
            raise
        if not is_main_process():
            return
        atomic_write(
            osp.join(runner.work_dir, 'last_checkpoint'), str(self.last_ckpt))
        if dropped is not None:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(dropped))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed: folders
                self.file_backend.rmtree(path)


def use_atomic_checkpoints(cfg: Any) -> None:
    """Make a training config save with :class:`AtomicCheckpointHook`
    where it uses mmengine's plain ``CheckpointHook`` (its arguments
    kept); another checkpoint hook type is left as it is."""
    hooks = cfg.get('default_hooks')
    hook = hooks.get('checkpoint') if hooks else None
    if hook and hook.get('type', 'CheckpointHook') in PLAIN_TYPES:
        hook['type'] = 'mmpose.AtomicCheckpointHook'
