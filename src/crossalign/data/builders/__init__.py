"""Data builders: training rows for every method and evaluation sets, from the LibreOffice help or user corpora.

- Training data: :func:`crossalign.data.builders.training.build_training_data` (``clear``, ``jsd``, ``multiway``,
  ``en-x``, ``infonce``, ``distill``; per-format builders in :mod:`.clear`, :mod:`.jsd`, :mod:`.multiway`); shared
  rules (sources, splits, heading disambiguation, caps) in :mod:`.common`, the output directory and manifest
  (:class:`~.output.BuiltData`) in :mod:`.output`.
- Evaluation data: :mod:`.eval_sets` — retrieval in four directions, mixed and inclination pools and bitext mining,
  from the page-disjoint test split.
"""

from __future__ import annotations
