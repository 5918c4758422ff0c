from .shared_prompt_mlp import SharedPromptMLP

__all__ = ['SharedPromptMLP']
