"""Generate the toy Chinese-English corpus in data/sample/ (written by us from templates; no external text).

It is small and regular on purpose: tests and configs/tiny.yaml train on it in seconds.
    .venv/bin/python scripts/make_sample_corpus.py [OUT_DIR]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

SUBJECTS = [  # (Chinese, English, third person singular?)
    ("我", "I", False),
    ("你", "you", False),
    ("他", "he", True),
    ("她", "she", True),
    ("我们", "we", False),
    ("他们", "they", False),
    ("我的朋友", "my friend", True),
    ("老师", "the teacher", True),
    ("我妈妈", "my mother", True),
]
ACTIONS = [  # (Chinese, English base form, English third-person form)
    ("吃苹果", "eat apples", "eats apples"),
    ("喝茶", "drink tea", "drinks tea"),
    ("看书", "read books", "reads books"),
    ("学中文", "learn Chinese", "learns Chinese"),
    ("去北京", "go to Beijing", "goes to Beijing"),
    ("打篮球", "play basketball", "plays basketball"),
    ("听音乐", "listen to music", "listens to music"),
    ("写信", "write letters", "writes letters"),
    ("买水果", "buy fruit", "buys fruit"),
    ("做饭", "cook", "cooks"),
    ("看电影", "watch movies", "watches movies"),
    ("唱歌", "sing", "sings"),
]


def cap(s: str) -> str:
    return s[0].upper() + s[1:]


def pairs() -> list[tuple[str, str]]:
    out = []
    for zs, es, third in SUBJECTS:
        for za, ea, ea3 in ACTIONS:
            do_not = "doesn't" if third else "don't"
            out += [
                (f"{zs}喜欢{za}。", f"{cap(es)} {'likes' if third else 'like'} to {ea}."),
                (f"{zs}想{za}。", f"{cap(es)} {'wants' if third else 'want'} to {ea}."),
                (f"{zs}明天要{za}。", f"{cap(es)} will {ea} tomorrow."),
                (f"{zs}每天都{za}。", f"{cap(es)} {ea3 if third else ea} every day."),
                (f"{zs}不喜欢{za}。", f"{cap(es)} {do_not} like to {ea}."),
                (f"{zs}会{za}吗？", f"Can {es} {ea}?"),
            ]
    out += [
        ("今天天气很好。", "The weather is nice today."),
        ("你叫什么名字？", "What is your name?"),
        ("谢谢你。", "Thank you."),
        ("早上好。", "Good morning."),
        ("我很高兴。", "I am very happy."),
    ]
    return out


def main(out_dir: str = "data/sample") -> None:
    data = pairs()
    random.Random(0).shuffle(data)
    dev, train = data[:40], data[40:]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("dev", dev)):
        (out / f"{name}.zh").write_text("".join(z + "\n" for z, _ in part), encoding="utf-8")
        (out / f"{name}.en").write_text("".join(e + "\n" for _, e in part), encoding="utf-8")
    print(f"wrote {len(train)} train and {len(dev)} dev pairs to {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
