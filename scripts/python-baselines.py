#!/usr/bin/env python3
"""The string-search packages a newcomer would reach for, timed on the screening
benchmark's own names and articles, for `cargo bench --bench screening`.

Usage:
    python-baselines.py NAMES ARTICLES SECONDS [--flashtext-max N]

NAMES holds one lower-cased name per line; ARTICLES holds the articles, each ended
by a NUL byte. For each package it builds an index over the names (timed), then
screens the articles in turn for SECONDS (a lower-cased copy of each article searched
for every name, no other normalisation) and prints one line:

    TOOL BUILD_SECONDS ARTICLES_PER_SECOND MATCHES_PER_ARTICLE

Tools: `pyahocorasick` (a compiled Aho-Corasick automaton), and `flashtext` (a
pure-Python keyword trie; skipped above --flashtext-max names, default 250000, to keep
the run short). A package that is not installed prints `TOOL missing`.
"""

import gc
import sys
import time


def timed_rate(articles, seconds, screen):
    done = 0
    matches = 0
    started = time.perf_counter()
    while True:
        for article in articles:
            matches += screen(article)
            done += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed, matches / done


def pyahocorasick(names, articles, seconds):
    import ahocorasick

    started = time.perf_counter()
    automaton = ahocorasick.Automaton()
    for i, name in enumerate(names):
        automaton.add_word(name, i)
    automaton.make_automaton()
    built = time.perf_counter() - started

    def screen(article):
        return sum(1 for _ in automaton.iter(article.lower()))

    return (built,) + timed_rate(articles, seconds, screen)


def flashtext(names, articles, seconds):
    from flashtext import KeywordProcessor

    started = time.perf_counter()
    processor = KeywordProcessor()  # case-insensitive: it lower-cases the text
    for name in names:
        processor.add_keyword(name)
    built = time.perf_counter() - started

    def screen(article):
        return len(processor.extract_keywords(article))

    return (built,) + timed_rate(articles, seconds, screen)


def main():
    args = sys.argv[1:]
    flashtext_max = 250_000
    if "--flashtext-max" in args:
        i = args.index("--flashtext-max")
        flashtext_max = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    with open(args[0], encoding="utf-8") as f:
        names = [line.rstrip("\n") for line in f if line.strip()]
    with open(args[1], encoding="utf-8") as f:
        articles = [a for a in f.read().split("\0") if a]
    seconds = float(args[2])
    tools = [("pyahocorasick", pyahocorasick)]
    if len(names) <= flashtext_max:
        tools.append(("flashtext", flashtext))
    for name, run in tools:
        try:
            built, rate, per_article = run(names, articles, seconds)
        except ImportError:
            print(f"{name} missing", flush=True)
            continue
        print(f"{name} {built:.3f} {rate:.1f} {per_article:.2f}", flush=True)
        gc.collect()


if __name__ == "__main__":
    main()
