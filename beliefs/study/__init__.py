"""Studies: one file that runs probe → analyze → report."""

from beliefs.study.loader import load_study
from beliefs.study.schema import Study

__all__ = ["Study", "load_study"]
