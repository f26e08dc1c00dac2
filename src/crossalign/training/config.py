"""The training configuration: one dataclass, read from YAML/JSON files with errors that name the file and key."""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import json
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from crossalign.errors import ConfigError

#: Batch samplers accepted by ``batch_sampler`` (sentence-transformers' ``BatchSamplers`` values).
BATCH_SAMPLERS: tuple[str, ...] = ("no_duplicates", "batch_sampler", "group_by_label")


@dataclass
class TrainConfig:
    """Everything one training run needs; the CLI, config files and Python build the same object.

    Attributes:
        method: The loss: ``clear``, ``jsd``, ``multiway``, ``en-x``, ``infonce``, ``symmetric``, ``distill``,
            ``labse`` (see :data:`crossalign.losses.registry.LOSSES`).
        model: The model to start from: ``e5-small-q4``, a model directory or a Hugging Face id.
        data: A ``crossalign data build`` directory, a JSONL/CSV/Parquet file, or a Hugging Face dataset name or
            directory. May be None when :func:`crossalign.workflows.train.train` gets ``dataset=``.
        output_dir: Where checkpoints (``checkpoints/``), the log, the summary and the final model (``model/``) go.
        loss_kwargs: Keyword arguments of the loss (``LOSSES[method].parameters``), e.g. ``{"alpha": 0.4}``.
        teacher: ``distill`` only: the teacher model spec (default: ``model``, i.e. self-distillation).
        prompts: ``"auto"``: when the model has ``query``/``passage`` prompts (E5), prefix query columns and passage
            columns with them; ``"none"``: train on the raw texts; or a dict column -> prompt text.
        training_args: Passed through to ``SentenceTransformerTrainingArguments`` (overrides the fields above).
        cached: ``clear`` only: use the GradCache variant (``CachedCLEARLoss``) with ``mini_batch_size``.
        mini_batch_size: GradCache mini-batch size (implies ``cached``); default 32 when ``cached``.
        gather_across_devices: Under DDP, use all ranks' in-batch candidates (losses that support it).
        max_seq_length: Truncate training inputs to this many tokens (None: the model's setting); the saved
            model keeps the base model's limit for inference.
        freeze: Parameters to freeze: ``word_embeddings``, ``embeddings``, ``layers:0-5`` (several allowed).
        max_rows: Use only the first ``max_rows`` training rows.
        batch_sampler: ``no_duplicates`` (default: no text twice in a batch, so no false in-batch negative),
            ``batch_sampler`` or ``group_by_label``.
        query_prompt, passage_prompt: Prompts that override the model's own and its family's
            (:mod:`crossalign.models.prompts`; None: not given, ``""``: none). With ``prompts: auto`` query columns
            get the query prompt and passage columns the passage prompt; the saved model keeps both.
        label: The trained model's name in evaluations (tables, plots, output folders), recorded in the model's
            ``crossalign_training.json``; default: the output directory's name (``runs/clear-de`` -> ``clear-de``).
        base_anchor: Weight of the stay-close regulariser (:class:`~crossalign.losses.BaseAnchorLoss`): adds
            ``base_anchor · mean ‖f(x) − f_base(x)‖²`` over the batch's texts, ``f_base`` the frozen starting model
            (None or 0: off).
        merge_base: WiSE-FT after training (:mod:`crossalign.models.merge`): ``"auto"`` chooses λ on the dev pages
            (trained languages' dev x→en, held-out dev bitext; :mod:`crossalign.workflows.merge_select`), a number
            in [0, 1] is λ itself; the merged model goes to ``output_dir/model-merged`` (``model/`` stays the
            fine-tuned one). None: no merge.
        lora: Train LoRA adapters instead of the full weights (:mod:`crossalign.training.lora`):
            ``{r, alpha, dropout, targets}`` (missing keys: r 8, alpha 16, dropout 0, targets query+value), merged
            into plain weights when the model is saved. None: full fine-tuning.

    The remaining fields are the usual Hugging Face training arguments of the same name.

    Example:
        >>> cfg = TrainConfig(method="clear", model="e5-small-q4", data="built/clear-de", output_dir="runs/clear",
        ...                   max_steps=100, loss_kwargs={"alpha": 0.4})
        >>> cfg.to_dict()["method"]
        'clear'
    """

    method: str = "clear"
    model: str = "e5-small-q4"
    data: str | None = None
    output_dir: str = "runs/crossalign"
    loss_kwargs: dict[str, Any] = field(default_factory=dict)
    teacher: str | None = None
    prompts: str | dict[str, str] = "auto"
    # Hugging Face training arguments
    learning_rate: float = 2e-5
    per_device_train_batch_size: int = 32
    max_steps: int = -1
    num_train_epochs: float = 1.0
    warmup_ratio: float = 0.1
    lr_scheduler_type: str = "linear"
    weight_decay: float = 0.0
    seed: int = 42
    bf16: bool = False
    fp16: bool = False
    gradient_checkpointing: bool = False
    deepspeed: str | None = None
    logging_steps: int = 10
    save_steps: int = 500
    save_total_limit: int | None = None
    gradient_accumulation_steps: int = 1
    max_grad_norm: float = 1.0
    dataloader_num_workers: int = 0
    training_args: dict[str, Any] = field(default_factory=dict)
    # crossalign
    cached: bool = False
    mini_batch_size: int | None = None
    gather_across_devices: bool = False
    max_seq_length: int | None = None
    freeze: list[str] = field(default_factory=list)
    max_rows: int | None = None
    batch_sampler: str = "no_duplicates"
    label: str | None = None
    query_prompt: str | None = None
    passage_prompt: str | None = None
    base_anchor: float | None = None
    lora: dict[str, Any] | None = None
    merge_base: str | float | None = None

    def __post_init__(self) -> None:
        if self.merge_base is not None and self.merge_base != "auto":
            from crossalign.models.merge import check_lambda

            self.merge_base = check_lambda(self.merge_base, field="merge_base")
        if isinstance(self.freeze, str):
            self.freeze = [part for part in self.freeze.split(",") if part.strip()]
        if self.batch_sampler not in BATCH_SAMPLERS:
            raise ConfigError(
                f"batch_sampler must be one of {', '.join(BATCH_SAMPLERS)}, got {self.batch_sampler!r}.",
                hint="no_duplicates is the right choice for in-batch-negative losses",
            )
        if isinstance(self.prompts, str) and self.prompts not in ("auto", "none"):
            raise ConfigError(
                f"prompts must be 'auto', 'none' or a mapping column -> prompt, got {self.prompts!r}.",
                hint='for example prompts: {anchor: "query: ", positive: "passage: "}',
            )
        if self.base_anchor is not None and not (
            isinstance(self.base_anchor, int | float)
            and not isinstance(self.base_anchor, bool)
            and math.isfinite(self.base_anchor)
            and self.base_anchor >= 0
        ):
            raise ConfigError(
                f"base_anchor must be a non-negative number, got {self.base_anchor!r}.",
                hint="the weight of the stay-close term, e.g. 1.0; 0 or null switches it off",
            )
        if self.lora is not None:
            from crossalign.training.lora import LoraSpec

            self.lora = LoraSpec.from_mapping(self.lora, source="lora").to_dict()
        if self.fp16 and self.bf16:
            raise ConfigError("fp16 and bf16 are both set.", hint="choose one")
        self.validate()

    def validate(self) -> None:
        """Check every numeric field's range and the freeze specs' syntax; called on construction.

        Runs before anything is loaded or written, so a run that would fail (or silently do nothing: zero epochs,
        zero rows, a warm-up "ratio" of 5) is refused at once by the CLI and the Python API alike. A field set
        directly after construction is checked again by :func:`crossalign.workflows.train.train`.

        Raises:
            ConfigError: The first field out of range, with its value and the accepted range.
        """
        from crossalign.training.freeze import parse_freeze_spec

        check_number("learning_rate", self.learning_rate, above=0)
        check_number("per_device_train_batch_size", self.per_device_train_batch_size, integer=True, at_least=1)
        if self.max_steps != -1:
            check_number("max_steps", self.max_steps, integer=True, at_least=1, note="-1 means: run num_train_epochs")
        check_number("num_train_epochs", self.num_train_epochs, above=0)
        check_number("warmup_ratio", self.warmup_ratio, at_least=0, below=1, note="a fraction of the steps")
        check_number("weight_decay", self.weight_decay, at_least=0)
        check_number("seed", self.seed, integer=True, at_least=0, below=2**32)
        check_number("logging_steps", self.logging_steps, integer=True, at_least=1)
        check_number("save_steps", self.save_steps, integer=True, at_least=1)
        check_number("gradient_accumulation_steps", self.gradient_accumulation_steps, integer=True, at_least=1)
        check_number("max_grad_norm", self.max_grad_norm, at_least=0, note="0 turns clipping off")
        check_number("dataloader_num_workers", self.dataloader_num_workers, integer=True, at_least=0)
        for name in ("save_total_limit", "mini_batch_size", "max_seq_length", "max_rows"):
            if getattr(self, name) is not None:
                check_number(name, getattr(self, name), integer=True, at_least=1, note="or null: no limit")
        for spec in self.freeze:
            parse_freeze_spec(spec)
        if self.deepspeed is not None:
            _check_deepspeed(self.deepspeed)
        if self.training_args:
            check_training_args(self.training_args)
            own = {k: v for k, v in self.training_args.items() if k in self.keys() and k != "output_dir"}
            if own:  # a field of this config given as a training argument gets the same range check
                dataclasses.replace(self, training_args={}, **own)

    # ------------------------------------------------------------------ files
    @classmethod
    def keys(cls) -> list[str]:
        """The valid configuration keys."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, source: str = "config") -> TrainConfig:
        """Build a config from a mapping, checking every key and value type.

        Args:
            values: Key -> value.
            source: Named in errors (a file path).

        Raises:
            ConfigError: An unknown key (with close matches and the valid keys) or a value of the wrong type.
        """
        if not isinstance(values, dict):
            raise ConfigError(
                f"{source}: expected a mapping of keys to values at the top level, got {type(values).__name__}.",
                hint="write one 'key: value' per line (YAML) or a JSON object",
            )
        valid = cls.keys()
        hints = typing.get_type_hints(cls)
        values = dict(values)
        for key, value in values.items():
            if key in hints and _is_float_field(hints[key]) and isinstance(value, str):
                # YAML 1.1 reads 2e-5 (no dot) as a string; accept any number written as text
                with contextlib.suppress(ValueError):
                    values[key] = float(value)
        for key, value in values.items():
            if key not in valid:
                close = difflib.get_close_matches(str(key), valid, n=3, cutoff=0.6)
                suggestion = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                raise ConfigError(
                    f"{source}: unknown key {key!r}.{suggestion}",
                    hint=f"valid keys: {', '.join(valid)}",
                )
            expected = hints[key]
            if not _matches(value, expected):
                raise ConfigError(
                    f"{source}: key {key!r} must be {_type_name(expected)}, got {type(value).__name__} {value!r}.",
                    hint=f"fix the value of {key!r}",
                )
        coerced = {k: (float(v) if _is_float_field(hints[k]) and isinstance(v, int) else v) for k, v in values.items()}
        return cls(**coerced)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: Any) -> TrainConfig:
        """Read a YAML (``.yaml``/``.yml``) or JSON file; ``overrides`` (e.g. CLI flags) win over its values.

        Raises:
            ConfigError: The file is missing or unparsable, has an unknown key, or a value of the wrong type.
            DataFormatError: The file is not UTF-8 (the line and byte are named).

        Example:
            >>> cfg = TrainConfig.from_file("train.yaml", max_steps=10)  # doctest: +SKIP
        """
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} not found.", hint="check the path given to --config")
        from crossalign.data.io import read_utf8

        text = read_utf8(p).removeprefix("\ufeff")  # not UTF-8: an error naming the line and byte
        try:
            if p.suffix.lower() in (".yaml", ".yml"):
                import yaml

                values = yaml.safe_load(text) or {}
            else:
                values = json.loads(text)
        except Exception as exc:  # yaml.YAMLError, json.JSONDecodeError
            raise ConfigError(f"{p}: cannot parse the file: {exc}", hint="fix the syntax (YAML or JSON)") from exc
        cfg = cls.from_dict(values, source=str(p))
        if overrides:
            cfg = cls.from_dict({**cfg.to_dict(), **overrides}, source=f"{p} + command-line")
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-serialisable dict (what ``train_config.json`` holds)."""
        return dataclasses.asdict(self)

    def to_file(self, path: str | os.PathLike[str]) -> None:
        """Write the config as JSON (``.json``) or YAML (any other suffix), atomically."""
        from crossalign.utils.atomic import atomic_write_json, atomic_write_text

        if Path(path).suffix.lower() == ".json":
            atomic_write_json(path, self.to_dict())
        else:
            import yaml

            atomic_write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))


def check_number(
    name: str,
    value: Any,
    *,
    integer: bool = False,
    at_least: float | None = None,
    above: float | None = None,
    below: float | None = None,
    note: str = "",
) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number (an integer if ``integer``) in range.

    Args:
        name: The setting, as the message names it.
        value: The value to check (a bool is not a number here).
        integer: Require an integer.
        at_least: Inclusive lower bound. above: Exclusive lower bound. below: Exclusive upper bound.
        note: Appended to the accepted range in the message (what a special value means).
    """
    bounds = []
    if at_least is not None:
        bounds.append(f">= {at_least:g}")
    if above is not None:
        bounds.append(f"> {above:g}")
    if below is not None:
        bounds.append(f"< {below:g}")
    kind = "an integer" if integer else "a finite number"
    wanted = f"{kind} {' and '.join(bounds)}".strip() + (f" ({note})" if note else "")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    ok = (
        number
        and math.isfinite(value)
        and (not integer or float(value).is_integer())
        and (at_least is None or value >= at_least)
        and (above is None or value > above)
        and (below is None or value < below)
    )
    if not ok:
        raise ConfigError(f"{name} must be {wanted}, got {value!r}.", hint=f"set {name} to {wanted}")


def _check_deepspeed(value: str) -> None:
    """``deepspeed`` must be installed and name a JSON file (or be inline JSON), checked before any work."""
    import importlib.util

    from crossalign.errors import MissingDependencyError

    if importlib.util.find_spec("deepspeed") is None:
        raise MissingDependencyError(
            "--deepspeed / deepspeed needs the package 'deepspeed', which is not installed.",
            hint="pip install deepspeed (on a machine with a CUDA toolkit), or drop --deepspeed",
        )
    if not value.lstrip().startswith("{") and not Path(value).expanduser().is_file():
        raise ConfigError(f"deepspeed config file {value} not found.", hint="check the path given to --deepspeed")


def check_training_args(values: dict[str, Any]) -> None:
    """Check ``training_args`` keys and value types against ``SentenceTransformerTrainingArguments``.

    Raises:
        ConfigError: An unknown key (with close matches) or a value of the wrong type (``--training-arg
            per_device_train_batch_size=abc``), named before anything is loaded.
    """
    from sentence_transformers import SentenceTransformerTrainingArguments

    hints = _training_argument_types(SentenceTransformerTrainingArguments)
    for key, value in values.items():
        if key not in hints:
            close = difflib.get_close_matches(str(key), list(hints), n=3, cutoff=0.6)
            suggestion = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigError(
                f"training_args: {key!r} is not a SentenceTransformerTrainingArguments field.{suggestion}",
                hint="check the --training-arg / training_args key",
            )
        expected = hints[key]
        try:
            ok = _matches(value, expected)
        except TypeError:  # a type isinstance cannot check (a Callable): left to transformers
            continue
        if not ok:
            raise ConfigError(
                f"training_args: {key!r} must be {_type_name(expected)}, got {type(value).__name__} {value!r}.",
                hint=f"fix the value, e.g. --training-arg {key}=<value> (values are parsed as JSON)",
            )


@functools.cache
def _training_argument_types(cls: type) -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an unresolvable annotation: check the names only
        hints = {}
    return {name: hints.get(name, Any) for name in fields}


def _is_float_field(tp: Any) -> bool:
    return tp is float or float in typing.get_args(tp)


@functools.cache
def _adapter(tp: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(tp)


def _matches(value: Any, tp: Any) -> bool:
    """Whether ``value`` is of type ``tp``, strictly (pydantic strict mode: no bool as int, no "1" as int); a text
    is accepted for a list of texts (``freeze: a,b``). TypeError for a type pydantic cannot check."""
    if isinstance(value, str) and list[str] in (tp, *typing.get_args(tp)):
        return True
    try:
        _adapter(tp).validate_python(value, strict=True)
    except pydantic.ValidationError:
        return False
    except pydantic.PydanticSchemaGenerationError as exc:
        raise TypeError(str(exc)) from None
    return True


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if origin is list:
        return "a list of " + _type_name(typing.get_args(tp)[0]).removeprefix("a ").removeprefix("an ") + "s"
    if origin is dict:
        return "a mapping"
    names = {bool: "a boolean (true/false)", int: "an integer", float: "a number", str: "a string"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))
