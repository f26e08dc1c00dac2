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
        f"- base model: `{info['base_model']}`",
    ]
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
