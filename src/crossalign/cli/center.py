r"""crossalign center: add per-language mean-centering to a model (training-free; Libovický et al. 2020).

Examples:

    crossalign center e5-small-q4 --langs de,zh-CN,eu,km,ja,ru --output runs/e5-centered
    crossalign center runs/clear-de/model --langs de --texts sw=swahili.txt --output runs/clear-centered

Each language's mean embedding (one per prompt of the model, e.g. query and passage) is estimated from unlabelled
text: the LibreOffice help's train pages (never a test page; English is always added) or, with --texts LANG=FILE, a
UTF-8 file with one text per line. The output is the model plus a LanguageCentering module: crossalign evaluate
centers every text on its language's mean and re-normalises; sentence-transformers does it with
model.encode(texts, lang="de", centering_prompt="query"). Without a language the module passes embeddings through.
The last line printed is the output directory.
"""

from __future__ import annotations

import argparse
from typing import Any

from crossalign.cli._text import CACHE_DIR_HELP, add_command, int_at_least


def _text_file(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected LANG=FILE, got {text!r}")
    lang, path = text.split("=", 1)
    return lang.strip(), path.strip()


def register(subparsers: Any) -> None:
    """Add the ``center`` command to the top-level sub-parsers."""
    p = add_command(
        subparsers, "center", __doc__, "add per-language mean-centering to a model (training-free, cannot forget)"
    )
    p.add_argument("model", metavar="MODEL", help="e5-small-q4, a model directory or a Hugging Face id")
    p.add_argument(
        "--langs", metavar="LIST", default="", help="languages estimated from the LibreOffice help, e.g. de,ja"
    )
    p.add_argument(
        "--texts",
        action="append",
        type=_text_file,
        default=[],
        metavar="LANG=FILE",
        help="estimate LANG's mean from FILE (UTF-8, one text per line) instead (repeatable)",
    )
    p.add_argument("--output", metavar="DIR", required=True, help="the centered model's directory")
    p.add_argument(
        "--max-texts", type=int_at_least(1), default=1000, metavar="N", help="LibreOffice texts per language (1000)"
    )
    p.add_argument("--seed", type=int, default=13, help="page split and sampling seed (13: crossalign's split)")
    p.add_argument("--cache-dir", metavar="DIR", help=CACHE_DIR_HELP)
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``crossalign center``; prints the output directory as the last line."""
    from crossalign.workflows.center import centered_model

    out = centered_model(
        args.model,
        args.output,
        langs=args.langs,
        text_files=dict(args.texts),
        max_texts=args.max_texts,
        seed=args.seed,
        cache_dir=args.cache_dir,
        overwrite=args.overwrite,
    )
    print(out)
    return 0
