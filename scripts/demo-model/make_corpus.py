#!/usr/bin/env python3
"""Clean and split the demo corpus (King James Bible + Jane Austen's six novels).

Input: a folder holding kjv_raw.txt (`bible -f gen1:1-rev22:21`, one verse a line,
"Ge1:1 In the beginning ...") and austen_<name>.txt (the janeaustenr character vectors written
out line by line). Output (all UTF-8, LF):
  <out-train>/train.txt, <out-train>/valid.txt   training text and the held-out text used for
                                                 early stopping (not shipped)
  <out-res>/calibration.txt, <out-res>/evaluation.txt  shipped beside the demo model

The split holds out whole units: Austen chapters taken from the end of a novel, and whole
books of the Bible. Everything is deterministic (no randomness).
"""
import argparse
import os
import re
import sys

KJV_BOOKS = [
    ("Ge", "Genesis"), ("Exo", "Exodus"), ("Lev", "Leviticus"), ("Num", "Numbers"),
    ("Deu", "Deuteronomy"), ("Josh", "Joshua"), ("Jdgs", "Judges"), ("Ruth", "Ruth"),
    ("1Sm", "1 Samuel"), ("2Sm", "2 Samuel"), ("1Ki", "1 Kings"), ("2Ki", "2 Kings"),
    ("1Chr", "1 Chronicles"), ("2Chr", "2 Chronicles"), ("Ezra", "Ezra"), ("Neh", "Nehemiah"),
    ("Est", "Esther"), ("Job", "Job"), ("Psa", "Psalms"), ("Prv", "Proverbs"),
    ("Eccl", "Ecclesiastes"), ("SSol", "Song of Solomon"), ("Isa", "Isaiah"),
    ("Jer", "Jeremiah"), ("Lam", "Lamentations"), ("Eze", "Ezekiel"), ("Dan", "Daniel"),
    ("Hos", "Hosea"), ("Joel", "Joel"), ("Amos", "Amos"), ("Obad", "Obadiah"),
    ("Jonah", "Jonah"), ("Mic", "Micah"), ("Nahum", "Nahum"), ("Hab", "Habakkuk"),
    ("Zep", "Zephaniah"), ("Hag", "Haggai"), ("Zec", "Zechariah"), ("Mal", "Malachi"),
    ("Mat", "Matthew"), ("Mark", "Mark"), ("Luke", "Luke"), ("John", "John"), ("Acts", "Acts"),
    ("Rom", "Romans"), ("1Cor", "1 Corinthians"), ("2Cor", "2 Corinthians"),
    ("Gal", "Galatians"), ("Eph", "Ephesians"), ("Phi", "Philippians"), ("Col", "Colossians"),
    ("1Th", "1 Thessalonians"), ("2Th", "2 Thessalonians"), ("1Tim", "1 Timothy"),
    ("2Tim", "2 Timothy"), ("Titus", "Titus"), ("Phmn", "Philemon"), ("Heb", "Hebrews"),
    ("Jas", "James"), ("1Pet", "1 Peter"), ("2Pet", "2 Peter"), ("1Jn", "1 John"),
    ("2Jn", "2 John"), ("3Jn", "3 John"), ("Jude", "Jude"), ("Rev", "Revelation"),
]
AUSTEN = ["sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey",
          "persuasion"]

# Held-out units. Bible: whole books. Austen: the last N chapters of a novel.
SPLITS = {
    "evaluation": {"kjv": ["Mark", "Ruth", "Jonah"], "austen": ("persuasion", 5)},
    "calibration": {"kjv": ["Luke"], "austen": ("northangerabbey", 6)},
    "valid": {"kjv": ["Romans", "James"], "austen": ("sensesensibility", 4)},
}


def norm_space(s):
    return re.sub(r"[ \t]+", " ", s).strip()


def load_kjv(path):
    """-> list of (book name, [chapter texts]) in canonical order."""
    abbr = dict(KJV_BOOKS)
    books = {}
    order = []
    ref = re.compile(r"^([0-9]?[A-Za-z]+)([0-9]+):([0-9]+) (.*)$")
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            m = ref.match(line)
            if not m:
                sys.exit(f"unexpected KJV line: {line!r}")
            name = abbr[m.group(1)]
            ch = int(m.group(2))
            if name not in books:
                books[name] = {}
                order.append(name)
            books[name].setdefault(ch, []).append(norm_space(m.group(4)))
    if len(order) != 66:
        sys.exit(f"expected 66 books, got {len(order)}")
    out = []
    for name in order:
        chapters = []
        for ch in sorted(books[name]):
            # One verse a line, no verse numbers, headed by "Book N".
            chapters.append(f"{name} {ch}\n\n" + "\n".join(books[name][ch]))
        out.append((name, chapters))
    return out


def load_austen(path):
    """-> (front matter text, [chapter texts]). Paragraphs are unwrapped to one line each,
    the _underscore_ italics markers are removed, runs of spaces collapsed."""
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f]
    paras, cur = [], []
    for l in lines:
        if l.strip():
            cur.append(l.strip())
        elif cur:
            paras.append(cur)
            cur = []
    if cur:
        paras.append(cur)
    texts = []
    for p in paras:
        t = norm_space(" ".join(p).replace("_", ""))
        if t:
            texts.append(t)
    head = re.compile(r"^(CHAPTER|Chapter) ([0-9IVXLC]+)\.?$")
    front, chapters = [], []
    for t in texts:
        if head.match(t):
            chapters.append([t])
        elif chapters:
            chapters[-1].append(t)
        else:
            front.append(t)
    if len(chapters) < 10:
        sys.exit(f"{path}: found only {len(chapters)} chapters")
    return "\n\n".join(front), ["\n\n".join(c) for c in chapters]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True, help="folder with kjv_raw.txt and austen_*.txt")
    ap.add_argument("--out-train", required=True)
    ap.add_argument("--out-res", required=True)
    a = ap.parse_args()

    kjv = load_kjv(os.path.join(a.raw, "kjv_raw.txt"))
    austen = {n: load_austen(os.path.join(a.raw, f"austen_{n}.txt")) for n in AUSTEN}

    held_books = {b: s for s, d in SPLITS.items() for b in d["kjv"]}
    held_novels = {d["austen"][0]: (s, d["austen"][1]) for s, d in SPLITS.items()}
    docs = {"train": [], "valid": [], "calibration": [], "evaluation": []}

    for name, chapters in kjv:
        docs[held_books.get(name, "train")].append("\n\n".join(chapters))
    for n in AUSTEN:
        front, chapters = austen[n]
        if n in held_novels:
            split, k = held_novels[n]
            docs["train"].append("\n\n".join([front] + chapters[:-k]))
            docs[split].append("\n\n".join(chapters[-k:]))
        else:
            docs["train"].append("\n\n".join([front] + chapters))

    os.makedirs(a.out_train, exist_ok=True)
    os.makedirs(a.out_res, exist_ok=True)
    for split, parts in docs.items():
        d = a.out_train if split in ("train", "valid") else a.out_res
        text = "\n\n\n".join(parts) + "\n"
        p = os.path.join(d, f"{split}.txt")
        with open(p, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"{split:12s} {len(text.encode('utf-8')):9d} bytes  {len(parts):3d} documents  -> {p}")


if __name__ == "__main__":
    main()
