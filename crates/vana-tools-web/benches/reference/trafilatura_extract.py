"""The reference side of the extraction benchmark (benches/extract.rs): trafilatura over the
same pages, on as many worker processes as VANA gets threads, timed after a warm-up pass.

    python trafilatura_extract.py WORKERS ROUNDS FILE...

Prints one JSON object: trafilatura's version, pages per second of Markdown extraction, and each
page's main text (`txt` output) for the agreement score.
"""

import json
import multiprocessing
import sys
import time

import trafilatura

PAGES = []


def load(files):
    global PAGES
    PAGES = [open(f, "rb").read() for f in files]


def markdown(i):
    out = trafilatura.extract(PAGES[i], output_format="markdown")
    return len(out or "")


def text(i):
    return trafilatura.extract(PAGES[i], output_format="txt") or ""


def main():
    workers, rounds, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    load(files)
    with multiprocessing.Pool(workers, initializer=load, initargs=(files,)) as pool:
        # Warm-up: every worker imports, loads and extracts once.
        pool.map(markdown, range(len(files)), chunksize=1)
        start = time.perf_counter()
        for _ in range(rounds):
            pool.map(markdown, range(len(files)), chunksize=1)
        seconds = time.perf_counter() - start
        texts = pool.map(text, range(len(files)), chunksize=1)
    json.dump(
        {
            "version": trafilatura.__version__,
            "pages_per_sec": rounds * len(files) / seconds,
            "texts": texts,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
