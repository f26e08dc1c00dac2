"""Settings for the whole test suite.

``CROSSALIGN_BACKEND=torch``: encode-only stages default to ``backend="auto"``, which means OpenVINO where the
``openvino`` package is installed (it is, in the ``dev`` extra). Under that default every test that builds a tiny
model and evaluates, mines or centers with it would first convert the model to OpenVINO (a trace, an export to the
cache and a compilation, about a second for a tiny model and more for the real one, again for every fine-tuned
model) and many tests compare vectors exactly with the model's own torch forward. So the suite runs the torch path
by default, which keeps the default run within its time budget and its exact comparisons meaningful; the OpenVINO
path and ``auto`` itself are covered by their own tests, which set the backend explicitly or clear this variable
(tests/unit/models/test_models_backends.py, tests/integration/models/test_models_backends_integration.py).
``CROSSALIGN_PRECISION=fp32``: ``precision="auto"`` (the default of encoding and of the demo's training) means bf16
on CPUs with native bf16, so the same test would train and score differently on different machines; the suite pins
fp32, and the bf16 paths are covered by tests that ask for them or clear this variable.
``setdefault``: ``CROSSALIGN_BACKEND=openvino pytest ...`` runs the suite on OpenVINO instead.
"""

from __future__ import annotations

import os

os.environ.setdefault("CROSSALIGN_BACKEND", "torch")
os.environ.setdefault("CROSSALIGN_PRECISION", "fp32")
