# Copyright (c) mmppm contributors. All rights reserved.
"""Compatibility shims, in one place: what makes the pinned libraries work
together here, each a small module with its reason.

- :mod:`.mmcv_ext_stub`: a stand-in ``mmcv._ext`` for mmcv-lite (mmpose
  imports the compiled ops PPM never calls);
- :mod:`.checkpoint_compat`: the classes mmengine checkpoints hold,
  allow-listed for ``torch.load(weights_only=True)``;
- :mod:`.cpu_distributed`: gloo instead of NCCL for distributed runs on
  CPUs;
- :mod:`.mmpose_drawing`: mmpose 1.3's keypoint drawing under numpy 2.

Imported by what needs them; ``import mmppm`` installs the mmcv stand-in.
"""
