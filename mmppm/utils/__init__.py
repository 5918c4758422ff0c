from .mmcv_ext_stub import has_compiled_mmcv_ops, install_mmcv_ext_stub

__all__ = ['has_compiled_mmcv_ops', 'install_mmcv_ext_stub']
