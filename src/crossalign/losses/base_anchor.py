"""Stay close to the frozen base model: embedding distillation toward the starting model, wrapped around any loss."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from sentence_transformers.base.losses.gradcache import resolve_gradient_cache_loss, uses_gradient_cache
from torch import Tensor, nn

from crossalign.errors import ConfigError
from crossalign.losses._common import check_weight
from crossalign.losses.distillation import DISTILLATION_CITATION

L2SP_CITATION = """
@inproceedings{li2018explicit,
    title={Explicit Inductive Bias for Transfer Learning with Convolutional Networks},
    author={Xuhong Li and Yves Grandvalet and Franck Davoine},
    booktitle={Proceedings of the 35th International Conference on Machine Learning (ICML)},
    pages={2825--2834},
    year={2018},
    url={https://arxiv.org/abs/1802.01483},
}
"""

#: The component name of the regulariser in the loss dict (and in ``train_log.jsonl``).
COMPONENT = "base_anchor"
#: The component name given to a wrapped loss that returns a single tensor.
TASK_COMPONENT = "task"


def frozen_copy(model: nn.Module) -> tuple[nn.Module, list[nn.Parameter]]:
    """A frozen, eval-mode copy of ``model`` that *shares* every parameter already frozen in ``model``.

    Frozen parameters cannot change during training, so the copy keeps a reference instead of a second tensor: with
    the word embeddings frozen (crossalign's default for multilingual models) or under LoRA (every base weight
    frozen), the copy costs little memory. Returns the copy and the shared parameters.
    """
    shared = [p for p in model.parameters() if not p.requires_grad]
    memo: dict[int, Any] = {id(p): p for p in shared}
    base = copy.deepcopy(model, memo)
    for parameter in base.parameters():
        parameter.requires_grad_(False)
    base.eval()
    return base, shared


def _unwrap(model: nn.Module) -> nn.Module:
    """The module itself behind DDP (``.module``) and ``torch.compile`` (``._orig_mod``) wrappers."""
    model = getattr(model, "_orig_mod", model)
    return getattr(model, "module", model)


class _Capture:
    """What one call of :class:`BaseAnchorLoss` collects from the student's forward passes."""

    def __init__(self, base: nn.Module, with_student: bool) -> None:
        self.base = base
        self.with_student = with_student
        self.pending: list[dict[str, Any]] = []
        self.targets: list[Tensor] = []
        self.students: list[Tensor] = []

    def pre_hook(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # The student's modules add their outputs to the feature dict in place: keep the tokenised inputs only.
        self.pending.append(dict(args[0]) if args else dict(kwargs.get("input", {})))

    def hook(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        features = self.pending.pop()
        extra = {k: v for k, v in kwargs.items() if k != "input"}
        with torch.no_grad():
            target = self.base(features, **extra)["sentence_embedding"]
        self.targets.append(target.detach())
        if self.with_student:
            self.students.append(output["sentence_embedding"])


def anchor_term(students: Sequence[Tensor], targets: Sequence[Tensor]) -> Tensor:
    """``mean_i ‖s_i − b_i‖²`` over every row of every pair of ``(n_k, d)`` tensors (squared L2, summed over d)."""
    if len(students) != len(targets) or not students:
        raise RuntimeError(f"BaseAnchorLoss: {len(students)} student and {len(targets)} base embedding batches")
    total = None
    rows = 0
    for student, target in zip(students, targets):
        if student.shape != target.shape:
            raise RuntimeError(
                f"BaseAnchorLoss: student embeddings {tuple(student.shape)} and base embeddings "
                f"{tuple(target.shape)} differ in shape"
            )
        dtype = torch.promote_types(student.dtype, torch.float32)  # half precision accumulates in float32
        term = (student.to(dtype) - target.to(dtype)).pow(2).sum()
        total = term if total is None else total + term
        rows += student.size(0)
    assert total is not None
    return total / rows


class _CachedAnchorDecorator:
    """Wraps a GradCache loss's ``calculate_loss``: adds ``weight · anchor_term`` on the cached embeddings.

    The mini-batch embeddings ``reps`` reach ``calculate_loss`` in the order the no-gradient pass (GradCache step 1)
    embedded them, which is the order :class:`_Capture` recorded the base model's embeddings in; the term's
    gradient w.r.t. the embeddings joins the cache, and GradCache's replay carries it into the model.
    """

    def __init__(self, fn: Any, owner: BaseAnchorLoss) -> None:
        self.fn = fn
        self.owner = owner

    def __call__(self, reps: list[list[Tensor]], *args: Any, **kwargs: Any) -> Tensor:
        total = self.fn(reps, *args, **kwargs)
        capture = self.owner._active
        if capture is None or self.owner.weight == 0.0:
            return total
        students = [rep for column in reps for rep in column]
        anchor = self.owner.weight * anchor_term(students, capture.targets)
        if kwargs.get("with_backward"):
            anchor.backward()
            anchor = anchor.detach()
        self.owner._cached_value = anchor.detach()
        return total + anchor


class BaseAnchorLoss(nn.Module):
    loss_name = "BaseAnchorLoss"

    def __init__(self, model: nn.Module, loss: nn.Module, weight: float = 1.0, base_model: nn.Module | None = None):
        """Adds a term that keeps the student's embeddings close to those of the frozen starting model, on the very
        texts of each batch, to any crossalign (or sentence-transformers) loss:

        ``L = L_task + weight · (1/N) Σ_i ‖f_θ(x_i) − f_base(x_i)‖²``

        where ``x_1..x_N`` are all texts the wrapped loss embeds in the step (every column, with their prompts),
        ``f_θ`` the student's and ``f_base`` the frozen base model's ``sentence_embedding`` (for normalised
        embeddings ``‖a − b‖² = 2 − 2·cos(a, b)``, so the term lies in [0, 4] whatever the dimension). This is
        multilingual knowledge distillation (Reimers & Gurevych 2020) with the starting model as its own teacher,
        applied to the training texts; the parameter-space counterpart is L2-SP (Li et al. 2018), which penalises
        ``‖θ − θ_base‖²`` instead. Not from a paper: the choice of texts (the batch's own) and the default weight.

        How it is computed. The base embeddings come from the same tokenised features as the student's, in the same
        forward-pass order, without gradients: forward hooks on the student capture each feature dict (no second
        tokenisation, no copy of the tensors) and run the base model on it. The student's embeddings are not
        recomputed: the term reuses the ones the wrapped loss computes. The base model is a frozen copy of
        ``model`` made when the loss is built, *sharing* every parameter that is frozen in ``model`` at that
        moment (they cannot change), so with frozen word embeddings or LoRA it costs little memory; it runs in
        eval mode (no dropout). With a GradCache loss (``CachedCLEARLoss``, sentence-transformers' ``Cached*``) the
        term is added inside the loss's ``calculate_loss`` on the cached mini-batch embeddings, so the cached
        variant has the same value and gradient as the plain one, with memory bounded by a mini-batch.

        Args:
            model: The SentenceTransformer being trained (the wrapped loss's model).
            loss: The task loss to wrap (any crossalign loss, e.g. ``CLEARLoss``, ``CachedCLEARLoss``,
                ``InfoNCELoss``).
            weight: ``weight`` above (≥ 0; 0 returns the wrapped loss's output unchanged and runs no base model).
            base_model: The model to stay close to (default: a frozen copy of ``model`` as it is now). Must produce
                embeddings of the same dimension from the same tokenised features (same tokenizer).

        Inputs:
            +-------------------------------------+---------------------------------+
            | Texts                               | Labels                          |
            +=====================================+=================================+
            | whatever the wrapped loss reads     | whatever the wrapped loss reads |
            +-------------------------------------+---------------------------------+

        Requirements:
            1. The wrapped loss embeds its texts through ``model`` (its ``sentence_embedding`` output).
            2. Parameters frozen when this loss is built stay frozen (they are shared with the base copy; unfreezing
               one later is an error at the next step).

        Returns:
            A dict: the wrapped loss's components (a wrapped loss returning one tensor becomes ``{"task": ...}``) plus
            ``{"base_anchor": weight · term}``; the trainer sums them and logs each.

        Relations:
            - :class:`~crossalign.losses.MultilingualDistillationLoss` distils a teacher onto translations; this
              loss distils the starting model onto the training texts, as a regulariser.
            - sentence-transformers' ``MatryoshkaLoss`` wraps losses the same way (including Cached ones).

        References:
            - Reimers & Gurevych, Making Monolingual Sentence Embeddings Multilingual using Knowledge Distillation,
              EMNLP 2020, https://arxiv.org/abs/2004.09813
            - Li, Grandvalet & Davoine, Explicit Inductive Bias for Transfer Learning with Convolutional Networks
              (L2-SP), ICML 2018, https://arxiv.org/abs/1802.01483

        Example::

            from crossalign.losses import BaseAnchorLoss, CLEARLoss

            model = SentenceTransformer("intfloat/multilingual-e5-small")
            train_dataset = Dataset.from_dict({
                "anchor": ["query: Who wrote Faust?"],
                "positive": ["passage: Goethe wrote Faust."],
                "cross_anchor": ["query: Wer schrieb Faust?"],
            })
            loss = BaseAnchorLoss(model, CLEARLoss(model), weight=1.0)
        """
        super().__init__()
        if not isinstance(loss, nn.Module):
            raise ConfigError(f"BaseAnchorLoss wraps a loss module, got {type(loss).__name__}.")
        self.model = model
        self.loss = loss
        self.weight = check_weight(weight, "weight")
        self._shared: list[nn.Parameter] = []
        if base_model is None:
            base_model, self._shared = frozen_copy(_unwrap(model))
        else:
            for parameter in base_model.parameters():
                parameter.requires_grad_(False)
            base_model.eval()
        self.base_model = base_model
        self._active: _Capture | None = None
        self._cached_value: Tensor | None = None
        self.uses_gradient_cache = uses_gradient_cache(loss)
        if self.uses_gradient_cache:
            target = resolve_gradient_cache_loss(loss)
            target.calculate_loss = _CachedAnchorDecorator(target.calculate_loss, self)

    # ------------------------------------------------------------------ columns: the wrapped loss's
    def ordered_columns(self, column_names: Sequence[str]) -> list[str]:
        return self.loss.ordered_columns(column_names)

    def validate_columns(self, column_names: Sequence[str]) -> list[str]:
        return self.loss.validate_columns(column_names)

    def select_columns(self, dataset: Any) -> Any:
        return self.loss.select_columns(dataset)

    @property
    def columns(self) -> list[str] | None:
        return getattr(self.loss, "columns", None)

    # ------------------------------------------------------------------ training
    def train(self, mode: bool = True) -> BaseAnchorLoss:
        super().train(mode)
        self.base_model.eval()  # the target has no dropout, whatever the trainer switches
        return self

    @contextmanager
    def _capturing(self, with_student: bool):
        for parameter in self._shared:
            if parameter.requires_grad:
                raise ConfigError(
                    "BaseAnchorLoss: a parameter that was frozen when the loss was built (and is therefore shared "
                    "with the frozen base copy) has been unfrozen.",
                    hint="freeze parameters before building the loss, or pass base_model= explicitly",
                )
        capture = _Capture(self.base_model, with_student)
        student = _unwrap(self.model)
        handles = [
            student.register_forward_pre_hook(capture.pre_hook, with_kwargs=True),
            student.register_forward_hook(capture.hook, with_kwargs=True),
        ]
        self._active = capture
        self._cached_value = None
        try:
            yield capture
        finally:
            self._active = None
            for handle in handles:
                handle.remove()

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> dict[str, Any]:
        if self.weight == 0.0:
            return self.loss(sentence_features, labels)
        if self.uses_gradient_cache:
            with self._capturing(with_student=False):
                out = self.loss(sentence_features, labels)
            anchor = self._cached_value
            self._cached_value = None
            if anchor is None:  # pragma: no cover - calculate_loss was not reached through the decorator
                raise RuntimeError("BaseAnchorLoss: the cached loss did not call its calculate_loss")
            # The term's gradient already flows through the returned total (GradCache's hook). A single tensor is
            # that total, so the term's value is moved into its own component; a dict's components are the wrapped
            # loss's own bookkeeping (without the term) with the total's gradient attached, so the term is added.
            components = _as_components(out) if isinstance(out, dict) else {TASK_COMPONENT: out - anchor}
            components[COMPONENT] = anchor
            return components
        with self._capturing(with_student=True) as capture:
            out = self.loss(sentence_features, labels)
        components = _as_components(out)
        components[COMPONENT] = self.weight * anchor_term(capture.students, capture.targets)
        return components

    def get_config_dict(self) -> dict[str, Any]:
        inner = self.loss.get_config_dict() if hasattr(self.loss, "get_config_dict") else {}
        return {"loss": type(self.loss).__name__, "weight": self.weight, "loss_config": inner}

    @property
    def citation(self) -> str:
        inner = getattr(self.loss, "citation", None) or ""
        return inner + DISTILLATION_CITATION + L2SP_CITATION


def _as_components(out: Tensor | dict[str, Tensor]) -> dict[str, Tensor]:
    if isinstance(out, dict):
        if COMPONENT in out:  # pragma: no cover - a wrapped BaseAnchorLoss
            raise ConfigError("BaseAnchorLoss cannot wrap another BaseAnchorLoss.")
        return dict(out)
    return {TASK_COMPONENT: out}


__all__ = ["COMPONENT", "L2SP_CITATION", "TASK_COMPONENT", "BaseAnchorLoss", "anchor_term", "frozen_copy"]
