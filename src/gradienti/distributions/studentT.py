"""``torch.distributions.studentT``: PyTorch's module name for ``StudentT`` (its other modules
are snake_case), so that ``from torch.distributions.studentT import StudentT`` runs unchanged;
the distribution itself lives in ``student_t``."""

from .student_t import StudentT

__all__ = ["StudentT"]
