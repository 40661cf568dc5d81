"""``make serve``: grading each submission as it arrives (``GradingService``), configured by
``c.GradeOnSubmit``."""
from .service import GradingService
from .settings import GradeOnSubmit

__all__ = ["GradeOnSubmit", "GradingService"]
