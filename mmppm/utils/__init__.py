from .mmcv_ext_stub import has_compiled_mmcv_ops, install_mmcv_ext_stub
from .sd_loading import SDWeightsNotFoundError, load_sd_components
from .tiny_sd import save_random_sd

__all__ = [
    'has_compiled_mmcv_ops', 'install_mmcv_ext_stub', 'SDWeightsNotFoundError',
    'load_sd_components', 'save_random_sd'
]
