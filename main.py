"""nnviz entry point: `python main.py` opens the window, `python main.py train ...` trains headless."""

if __name__ == "__main__":
    from nnviz.__main__ import run  # its first lines handle Ctrl-C: import nothing before it

    run()
