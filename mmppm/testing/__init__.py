# Copyright (c) mmppm contributors. All rights reserved.
"""What the tests, the benchmarks and the demos build instead of real models
and data; nothing here is imported by ``import mmppm``.

- :mod:`.random_sd`: random-weight Stable Diffusion folders
  (:func:`~.random_sd.save_random_sd`), for the tests, ``make toy
  --random-sd`` and the benchmarks;
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
  subprocess or under torchrun;
- :mod:`.browser`: headless Chromium driving the web page.

Import from the submodule (``from mmppm.testing.random_sd import
save_random_sd``): this package imports none of them, so that a subprocess
importing :mod:`.fakes` loads only what it needs.
"""
