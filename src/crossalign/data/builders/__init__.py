"""Data builders: training rows for every method (``clear``, ``jsd``, ``multiway``, ``en-x``, ``infonce``,
``distill``) and evaluation sets, from the LibreOffice help or user corpora.

Training data: :func:`crossalign.data.builders.training.build_training_data` (and the per-format builders in
:mod:`.clear`, :mod:`.jsd`, :mod:`.multiway`); shared rules in :mod:`.common`.
"""
