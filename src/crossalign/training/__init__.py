"""crossalign.training: the pieces of a training run (config, data loading, freezing, callbacks, model card).

The run itself is :func:`crossalign.workflows.train.train`; the command is ``crossalign train``.
"""

from crossalign.training.config import TrainConfig

__all__ = ["TrainConfig"]
