"""The crossalign section of a trained model's card (README.md) and its machine-readable twin.

sentence-transformers writes the model card (loss name, its ``get_config_dict()``, training arguments, citations).
crossalign adds what it alone knows: the method, the loss configuration, the data manifest's provenance, the
crossalign version, and, when the base model's card says its weights are 4-bit-derived, that note carried over.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from crossalign.utils.atomic import atomic_write_json, atomic_write_text

#: Written next to the model card.
TRAINING_INFO_FILE = "crossalign_training.json"
_FOUR_BIT = re.compile(r"4-bit", re.IGNORECASE)


def base_model_note(base_dir: str | os.PathLike[str] | None) -> str | None:
    """The base model card's 4-bit note (its first paragraph mentioning 4-bit), if any."""
    if base_dir is None:
        return None
    readme = Path(base_dir) / "README.md"
    if not readme.is_file():
        return None
    for paragraph in re.split(r"\n\s*\n", readme.read_text(encoding="utf-8")):
        if _FOUR_BIT.search(paragraph) and "derived" in paragraph.lower():
            return " ".join(paragraph.split())
    return None


def _front_matter(readme: Path) -> dict[str, Any]:
    """The YAML front matter of a model card (``{}`` when it has none or it does not parse)."""
    import yaml
    from huggingface_hub import metadata_load

    try:
        return metadata_load(readme) or {}
    except (OSError, ValueError, yaml.YAMLError):  # missing, not a mapping, unparsable
        return {}


def card_metadata(
    spec: str, resolved: str | os.PathLike[str] | None, manifest: dict[str, Any] | None
) -> dict[str, Any]:
    """What the trained model's card says about its origin: ``base_model`` (a Hugging Face id), ``language``
    (ISO 639-1 codes of the training data's languages) and ``license`` (the base model's).

    Sources: a built-in model's registry entry (``upstream``, ``license``); a Hugging Face id itself; a model
    directory's card front matter (``base_model``, ``license``) and ``config.json``'s ``_name_or_path``; the data's
    build manifest (``languages``). Unknown values are None (the card then omits them).
    """
    from crossalign.models.loading import looks_like_hf_id
    from crossalign.models.registry import get_builtin, is_builtin

    base: str | None = None
    license_: str | None = None
    if is_builtin(spec):
        entry = get_builtin(spec)
        base, license_ = entry.upstream, entry.license
    directory = Path(resolved) if resolved is not None and Path(resolved).is_dir() else None
    if directory is not None:
        front = _front_matter(directory / "README.md")
        card_base = front.get("base_model")
        if isinstance(card_base, list) and card_base:
            card_base = card_base[0]
        if isinstance(card_base, str) and card_base.strip() and base is None:
            base = card_base.strip()
        if isinstance(front.get("license"), str) and license_ is None:
            license_ = front["license"]
        if base is None:
            try:
                name = json.loads((directory / "config.json").read_text(encoding="utf-8")).get("_name_or_path")
            except (OSError, ValueError, AttributeError):
                name = None
            if isinstance(name, str) and looks_like_hf_id(name) and not Path(name).exists():
                base = name
    elif base is None and looks_like_hf_id(spec):
        base = spec
    languages: list[str] = []
    for lang in (manifest or {}).get("languages") or []:
        code = str(lang).split("-")[0].lower()
        if code and code not in languages:
            languages.append(code)
    return {"base_model": base, "language": languages or None, "license": license_}


def apply_card_metadata(model: Any, metadata: dict[str, Any]) -> None:
    """Put :func:`card_metadata`'s values into ``model.model_card_data`` (what sentence-transformers' card shows)."""
    card = getattr(model, "model_card_data", None)
    if card is None:
        return
    if metadata.get("base_model"):
        card.base_model = metadata["base_model"]  # set directly: set_base_model asks the Hub, which may be offline
    if metadata.get("language"):
        card.set_language(list(metadata["language"]))
    if metadata.get("license"):
        card.set_license(metadata["license"])


def training_info(
    *,
    method: str,
    loss: Any,
    config: dict[str, Any],
    manifest: dict[str, Any] | None,
    base_model: str,
    base_note: str | None,
    freeze: dict[str, Any] | None,
    global_step: int,
    label: str | None = None,
    card: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON record of a run: method, loss class and config, citation, data provenance, versions."""
    from crossalign import __version__

    loss_config = loss.get_config_dict() if hasattr(loss, "get_config_dict") else {}
    data = None
    if manifest:
        keys = ("format", "columns", "languages", "row_languages", "counts", "source", "seed", "created", "split")
        data = {k: manifest[k] for k in keys if k in manifest}
    return {
        "crossalign_version": __version__,
        "label": label,
        "method": method,
        "loss": type(loss).__name__,
        "loss_config": json.loads(json.dumps(loss_config, default=str)),
        "citation": getattr(loss, "citation", None),
        "base_model": base_model,
        "base_model_id": (card or {}).get("base_model"),
        "languages": (card or {}).get("language"),
        "license": (card or {}).get("license"),
        "base_model_note": base_note,
        "freeze": freeze,
        "global_step": global_step,
        "data_manifest": json.loads(json.dumps(data, default=str)) if data else None,
        "config": config,
    }


def write_card(model_dir: str | os.PathLike[str], info: dict[str, Any]) -> None:
    """Write :data:`TRAINING_INFO_FILE` and append a "crossalign training" section to ``README.md``."""
    model_dir = Path(model_dir)
    atomic_write_json(model_dir / TRAINING_INFO_FILE, info)
    lines = [
        "",
        "## crossalign training",
        "",
        f"- method: `{info['method']}` (loss `{info['loss']}`), {info['global_step']} steps, "
        f"crossalign {info['crossalign_version']}",
        f"- base model: `{info['base_model']}`"
        + (f" ({info['base_model_id']})" if info.get("base_model_id") not in (None, info["base_model"]) else ""),
    ]
    if info.get("languages"):
        lines.append(f"- training languages: {', '.join(info['languages'])}")
    if info.get("license"):
        lines.append(f"- licence (of the base model's weights): {info['license']}")
    if info.get("base_model_note"):
        lines.append(f"- note carried over from the base model: {info['base_model_note']}")
    if info.get("freeze") and info["freeze"].get("specs"):
        lines.append(f"- frozen: {', '.join(info['freeze']['specs'])}")
    lora = (info.get("config") or {}).get("lora")
    if lora:
        lines.append(
            f"- trained as LoRA adapters (Hu et al. 2022): r={lora['r']}, alpha={lora['alpha']}, "
            f"dropout={lora['dropout']}, targets {', '.join(lora['targets'])}; merged into the weights on save"
        )
    anchor = (info.get("config") or {}).get("base_anchor")
    if anchor:
        lines.append(
            f"- kept close to the base model: `BaseAnchorLoss` weight {anchor} "
            "(mean squared distance of each training text's embedding to the frozen base model's)"
        )
    lines += ["", "Loss configuration:", "", "```json", json.dumps(info["loss_config"], indent=2), "```"]
    if info.get("data_manifest"):
        lines += ["", "Training data (from its build manifest):", "", "```json"]
        lines += [json.dumps(info["data_manifest"], indent=2, ensure_ascii=False), "```"]
    if info.get("citation"):
        lines += ["", "Citation of the method:", "", "```bibtex", info["citation"].strip(), "```"]
    readme = model_dir / "README.md"
    existing = readme.read_text(encoding="utf-8") if readme.is_file() else f"# {model_dir.name}\n"
    atomic_write_text(readme, existing.rstrip("\n") + "\n" + "\n".join(lines) + "\n")
