"""nnviz entry point: `python main.py` opens the window, `python main.py train ...` trains headless."""

from nnviz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
