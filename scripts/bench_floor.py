#!/usr/bin/env python3
"""The benchmark's floor: polars (Python) reading every CSV file of a data set
fully, with its date and timestamp columns parsed (`try_parse_dates=True`:
revcycle has to parse them too), and nothing else.

    bench_floor.py DATA_DIR

Prints one line per file (rows, columns). Needs the `polars` package
(scripts/bench.sh creates a virtual environment with it).
"""
import glob
import os
import sys

import polars as pl


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip())
    files = sorted(glob.glob(os.path.join(sys.argv[1], "*.csv")))
    if not files:
        sys.exit(f"no CSV file in {sys.argv[1]}")
    for path in files:
        df = pl.read_csv(path, try_parse_dates=True)
        print(f"{os.path.basename(path)}: {df.height} rows, {df.width} columns")


if __name__ == "__main__":
    main()
