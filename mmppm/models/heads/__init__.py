from .prompt_matching_head import PromptMatchingHead

__all__ = ['PromptMatchingHead']
