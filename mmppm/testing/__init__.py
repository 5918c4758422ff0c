# Copyright (c) mmppm contributors. All rights reserved.
"""What the tests build instead of real models and data; nothing here is
imported by ``import mmppm``, a config or a tool (random-weight SD folders,
which configs, tools and ``make toy --random-sd`` use, are
:mod:`mmppm.utils.random_sd`).

- :mod:`.synthetic_episodes`: episodes of random images with Gaussian
  targets, for model tests;
- :mod:`.mp100_fixtures`: tiny COCO keypoint dicts, the dataset tests' toy
  set's sizes, the real MP-100 annotation files when present (skip if not);
- :mod:`.ppm_configs`: the toy PPM config shrunk for API, demo and hook
  tests;
- :mod:`.fakes`: fake registered models, datasets, metrics and hooks for
  engine and tool tests (registered on import; configs name the module in
  ``custom_imports``);
- :mod:`.tool_runs`: running a script of ``tools/`` in-process, in a
  subprocess or under torchrun.

Import from the submodule (``from mmppm.testing.fakes import ...``): this
package imports none of them, so that a subprocess
importing :mod:`.fakes` loads only what it needs.
"""
