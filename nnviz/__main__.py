"""`python -m nnviz`: the same as the `nnviz` command."""

from nnviz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
