from .episode_data_preprocessor import (EpisodeDataPreprocessor,
                                        build_data_preprocessor)

__all__ = ['EpisodeDataPreprocessor', 'build_data_preprocessor']
