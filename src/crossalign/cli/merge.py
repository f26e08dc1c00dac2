"""``crossalign merge``: WiSE-FT, a fine-tuned model's weights interpolated with its base model's.

    merged = (1 - lambda) * BASE + lambda * TUNED        (Wortsman et al. 2022, "Robust fine-tuning of zero-shot
                                                          models", CVPR)

lambda 0 is the base model, 1 the fine-tuned one (both exact). The two models must share one architecture (same
modules, parameter names and shapes); anything else is refused before anything is written. The output is a plain
sentence-transformers directory (SentenceTransformer(path) loads it) with crossalign_merge.json recording the sources
and lambda; the last line printed is that directory.

Examples::

    crossalign merge e5-small-q4 runs/clear/model --lambda 0.5 --output runs/clear/model-merged
    crossalign evaluate --model runs/clear/model-merged --base-model e5-small-q4 --langs de --output eval-merged

To choose lambda on a development split instead of guessing it, train with --merge-base auto.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crossalign.cli._text import CACHE_DIR_HELP, add_command


def register(subparsers: Any) -> None:
    """Add the ``merge`` command to the top-level sub-parsers."""
    p = add_command(
        subparsers, "merge", __doc__, "WiSE-FT: interpolate a fine-tuned model's weights with its base model's"
    )
    p.add_argument("base", metavar="BASE", help="the starting model: built-in name, directory or Hugging Face id")
    p.add_argument("tuned", metavar="TUNED", help="the fine-tuned model (trained from BASE): directory or id")
    p.add_argument(
        "--lambda",
        dest="lam",
        required=True,
        metavar="λ",
        help="weight of the fine-tuned model in [0, 1]: 0 = BASE, 1 = TUNED, 0.5 = the average",
    )
    p.add_argument("--output", required=True, metavar="DIR", help="where the merged model is saved")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --output")
    p.add_argument("--cache-dir", default=None, help=CACHE_DIR_HELP)
    p.set_defaults(func=run_merge)


def run_merge(args: argparse.Namespace) -> int:
    """Check the options, merge, save; prints the merged model's directory last."""
    from crossalign.errors import ConfigError
    from crossalign.models.loading import resolve_model
    from crossalign.models.merge import check_lambda, merge_models, save_merged

    lam = check_lambda(args.lam)
    out = Path(args.output).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.overwrite:
        raise ConfigError(f"--output {out} exists and is not empty", hint="choose another --output or pass --overwrite")
    base_path = resolve_model(args.base, cache_dir=args.cache_dir)
    tuned_path = resolve_model(args.tuned, cache_dir=args.cache_dir)
    merged = merge_models(args.base, args.tuned, lam, cache_dir=args.cache_dir)
    save_merged(merged, out, base=base_path, tuned=tuned_path, lam=lam, overwrite=True)
    print(f"merged {args.tuned} with {args.base} at lambda {lam:g}")
    print(out)
    return 0
