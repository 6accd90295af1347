"""Studies: one file that runs probe → analyze → report."""

from beliefs.study.schema import Study

__all__ = ["Study"]
