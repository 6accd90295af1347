"""Extraction: prompts with exact statement spans, batched prefix-cached runs, and ``probe``."""

from __future__ import annotations

from beliefs.extract.probe import ProgressHook, check_run, probe
from beliefs.extract.runner import Extractor, Measurement
from beliefs.inputs.prompts import SEPARATOR, Prompt, StartToken, render, resolve_start_token

__all__ = [
    "SEPARATOR",
    "Extractor",
    "Measurement",
    "ProgressHook",
    "Prompt",
    "StartToken",
    "check_run",
    "probe",
    "render",
    "resolve_start_token",
]
