# Copyright (c) mmppm contributors. All rights reserved.
"""The local web page of ``demo/webui.py`` (docs/webui.md).

The support-set model and the result formats import without gradio; the
page itself is :func:`mmppm.webui.app.build_app` (needs the ``webui``
extra, installed by ``tools/install.sh``).
"""
from .results import fit_rows, fit_table, predictions_to_coco
from .support_set import SupportImage, SupportSet

__all__ = [
    'SupportImage', 'SupportSet', 'fit_rows', 'fit_table',
    'predictions_to_coco'
]
