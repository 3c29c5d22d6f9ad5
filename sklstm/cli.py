"""The ``sklstm`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="sklstm", description="LSTM estimators in scikit-learn's idiom."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="forecast the bundled airline series with an LSTM pipeline, "
        "cross-validated against seasonal naive",
    )
    demo.add_argument("--out", default="sklstm-output", help="folder for the plot")
    demo.add_argument(
        "--max-epochs", type=int, default=300, help="most epochs per fit (default 300)"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run

        if args.max_epochs < 1:
            parser.error(f"--max-epochs must be >= 1; got {args.max_epochs}")
        run(out_dir=args.out, max_epochs=args.max_epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
