"""Learning-rate scaling for the small heads on top of the shared transformer.

``spacy train`` gives every component the same optimizer and schedule, tuned for
the transformer (1e-4 with warm-up and linear decay). Freshly initialized heads
(the NER heads' parser layers, the relation scorer) learn slowly at that rate within
a CPU budget of a few thousand steps. A component with ``head_lr_scale`` updates its
*own* parameters at ``head_lr_scale`` times the current rate; the transformer (which
the listeners only pass gradients to) keeps its rate.
"""
from typing import Any, Tuple

from thinc.api import Model, Optimizer


class ScaledOptimizer:
    """Call an optimizer with its learning rate multiplied by ``scale``."""

    def __init__(self, optimizer: Optimizer, scale: float) -> None:
        self.optimizer = optimizer
        self.scale = float(scale)

    def __call__(self, key: Tuple[int, str], weights: Any, gradient: Any, *,
                 lr_scale: float = 1.0) -> Any:
        return self.optimizer(key, weights, gradient, lr_scale=lr_scale * self.scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.optimizer, name)


def check_lr_scale(scale: float, component: str = "") -> float:
    """``scale`` as a float; a ValueError (naming the component) unless it is > 0."""
    value = float(scale)
    if not value > 0:
        where = f"{component}: " if component else ""
        raise ValueError(f"{where}head_lr_scale must be > 0, got {scale}")
    return value


def finish_update_scaled(model: Model, sgd: Optimizer, scale: float) -> None:
    """``model.finish_update(sgd)`` with the learning rate times ``scale``."""
    scale = check_lr_scale(scale)
    model.finish_update(sgd if scale == 1.0 else ScaledOptimizer(sgd, scale))  # type: ignore[arg-type]
