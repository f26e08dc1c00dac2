"""crossalign: make multilingual embedding models retrieve across languages as well as within one.

The package is organised by what each part is:

- :mod:`crossalign.models` resolves a model spec (a Hugging Face id, a local path or a built-in offline name such as
  ``e5-small-q4``) into a :class:`sentence_transformers.SentenceTransformer`;
- :mod:`crossalign.data` holds the typed records (parallel tuples, retrieval sets), their readers and writers, the
  LibreOffice help corpus and the data builders;
- :mod:`crossalign.losses` the training objectives (CLEAR, JSD+InfoNCE, multi-way, baselines);
- :mod:`crossalign.training` the training workflow on top of the sentence-transformers trainer;
- :mod:`crossalign.evaluation` metrics, search, evaluators and suites;
- :mod:`crossalign.reports` markdown, plots and comparisons;
- :mod:`crossalign.workflows` the end-to-end jobs the CLI runs (:mod:`crossalign.cli` is a thin layer over them).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
