"""Training-data builders: rows for every method from the LibreOffice help or user corpora.

:func:`~.training.build_training_data` dispatches by format (``clear``, ``infonce`` in :mod:`.clear`; ``jsd`` in
:mod:`.jsd`; ``multiway``, ``en-x``, ``distill`` in :mod:`.multiway`); every builder takes one
:class:`~.options.BuildOptions`; :class:`~.output.BuiltData` is the output directory and its manifest. Each builder
is written as ``impl(source, targets, options, started)`` and made public by :func:`~.options.builder`, which gives
all of them the signature ``(source, langs, options=None, *, show_progress=None, **overrides)``. Sources:
:mod:`crossalign.data.sources`; heading and de-duplication rules: :mod:`crossalign.data.text_rules`; splits and
seeded sampling: :mod:`crossalign.data.splits`; hard-negative mining: :mod:`crossalign.data.mining`. Evaluation sets
are built by :mod:`crossalign.data.eval_sets`.
"""

from __future__ import annotations
