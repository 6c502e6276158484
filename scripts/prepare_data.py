"""Fill data/prepared/{train,dev}/ with aligned NAME.zh / NAME.en files for configs/zh-en.yaml.

From local files (offline; e.g. the project's shared corpora):
    .venv/bin/python scripts/prepare_data.py --from-dir ../shared/data
    (copies every X.zh + X.en pair of train/, dev/ and, if present, extra/, checking that line counts agree)

From the Hugging Face Hub (online):
    .venv/bin/python scripts/prepare_data.py --hub Helsinki-NLP/news_commentary --hub-config en-zh --split train \\
        --src-key translation.zh --tgt-key translation.en --name news-commentary --part train

Cleaning happens at training time (seq2seq-train prints what each step removed); this script only
gathers raw, aligned text.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from seq2seq.data import DataError, load_source


def copy_dir(src_root: Path, out: Path) -> None:
    if not src_root.is_dir():
        what = "is a file, not a folder" if src_root.exists() else "does not exist"
        raise DataError(f"--from-dir {src_root} {what}: give a folder with train/ and dev/ holding X.zh + X.en pairs")
    for part in ("train", "dev", "extra"):
        files = sorted((src_root / part).glob("*.zh"))
        if not files and part == "extra":  # optional registers (Bible, CC-CEDICT, ...)
            continue
        if not (src_root / part).is_dir():
            raise DataError(f"{src_root} has no {part}/ folder (it needs train/ and dev/ holding X.zh + X.en pairs)")
        if not files:
            raise DataError(f"no {part}/*.zh files under {src_root}")
        (out / part).mkdir(parents=True, exist_ok=True)
        for zh in files:
            en = zh.with_suffix(".en")
            pairs = load_source({"src": str(zh), "tgt": str(en)})  # checks both exist and line counts agree
            shutil.copyfile(zh, out / part / zh.name)
            shutil.copyfile(en, out / part / en.name)
            print(f"{part}/{zh.stem}: {len(pairs)} pairs")


def from_hub(args, out: Path) -> None:
    spec = {
        "hub": args.hub,
        "config": args.hub_config,
        "split": args.split,
        "src_key": args.src_key,
        "tgt_key": args.tgt_key,
    }
    pairs = load_source(spec)
    (out / args.part).mkdir(parents=True, exist_ok=True)
    one_line = lambda s: " ".join(s.split())
    (out / args.part / f"{args.name}.zh").write_text("".join(one_line(s) + "\n" for s, _ in pairs), encoding="utf-8")
    (out / args.part / f"{args.name}.en").write_text("".join(one_line(t) + "\n" for _, t in pairs), encoding="utf-8")
    print(f"{args.part}/{args.name}: {len(pairs)} pairs from {args.hub}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--out",
        default="data/prepared",
        help="folder to fill: OUT/train, OUT/dev (and OUT/extra) get NAME.zh + NAME.en files "
        "(default data/prepared, what configs/zh-en.yaml reads)",
    )
    p.add_argument("--from-dir", help="a folder with train/ and dev/ (and optionally extra/) holding X.zh + X.en pairs")
    p.add_argument("--hub", help="Hugging Face Hub dataset id, e.g. Helsinki-NLP/news_commentary (needs network)")
    p.add_argument("--hub-config", help="the Hub dataset's configuration, e.g. en-zh")
    p.add_argument("--split", default="train", help="the Hub dataset's split to read (default train)")
    p.add_argument("--src-key", default="translation.zh", help="field of the Chinese text in a Hub record")
    p.add_argument("--tgt-key", default="translation.en", help="field of the English text in a Hub record")
    p.add_argument("--name", help="file name for the Hub data (default: the dataset id's last part)")
    p.add_argument(
        "--part",
        choices=["train", "dev"],
        default="train",
        help="whether the Hub data goes to OUT/train or OUT/dev (default train)",
    )
    args = p.parse_args(argv)
    out = Path(args.out)
    try:
        if args.from_dir:
            copy_dir(Path(args.from_dir), out)
        elif args.hub:
            args.name = args.name or args.hub.split("/")[-1]
            from_hub(args, out)
        else:
            p.error("give --from-dir or --hub")
    except DataError as e:
        print(f"prepare_data: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
