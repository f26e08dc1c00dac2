"""Builders that turn corpora into training and evaluation data.

- :mod:`.eval_sets` — the LibreOffice evaluation sets (retrieval in four directions, mixed and inclination pools,
  bitext mining) from the page-disjoint test split.
"""

from __future__ import annotations
