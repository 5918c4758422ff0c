from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .oracles import *  # noqa: F401,F403
from .pose_estimators import *  # noqa: F401,F403
from .prompt_encoders import *  # noqa: F401,F403
