"""Reports: Markdown and self-contained HTML with figures, from a run and its result tables."""

from beliefs.report.build import verdict, write_report

__all__ = ["verdict", "write_report"]
