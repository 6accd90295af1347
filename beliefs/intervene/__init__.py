"""Interventions on a causal LM: steering the residual stream at a statement, and the ripple of a
contradicting passage over other facts.

:class:`Steerer` adds a vector at one layer over a statement's shared tokens and reads the margin
(``scripts/validate_steering.py`` checks candidate instruments against random directions of equal
norm); :func:`ripple` reads other facts' margins with a fact's contradicting passage as prefix,
against a neutral passage of the same length.
"""

from __future__ import annotations

from beliefs.intervene.steer import Base, Steerer, bands, steer_positions

__all__ = ["Base", "Steerer", "bands", "steer_positions"]
