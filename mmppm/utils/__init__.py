from mmppm.compat.checkpoint_compat import register_checkpoint_safe_globals
from mmppm.compat.cpu_distributed import setup_cpu_distributed
from mmppm.compat.mmcv_ext_stub import (has_compiled_mmcv_ops,
                                        install_mmcv_ext_stub)
from .errors import MissingFileError, UserError
from .numerics import check_finite, to_numpy
from .sd_loading import (SDWeightsNotFoundError, load_sd_components,
                         load_text_components)

__all__ = [
    'MissingFileError', 'SDWeightsNotFoundError', 'UserError', 'check_finite',
    'has_compiled_mmcv_ops', 'install_mmcv_ext_stub', 'load_sd_components',
    'load_text_components', 'register_checkpoint_safe_globals',
    'setup_cpu_distributed', 'to_numpy'
]
