"""`python -m nnviz`, `python main.py` and the `nnviz` command: the same program.

The first lines make Ctrl-C end the program quietly (status 130, one line) while the entry point
itself loads; ``nnviz.cli.main`` then takes over. They use the built-in ``_signal`` only: nothing
slower may run before them.
"""

import _signal
import os
import sys


def _interrupted_while_loading(signum, frame):
    os.write(2, b"nnviz: interrupted\n")
    os._exit(130)


if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:  # not ignored (nohup), not a test's own
    _signal.signal(_signal.SIGINT, _interrupted_while_loading)

from nnviz.cli import main  # noqa: E402


def run() -> None:
    """Run nnviz with the process's arguments and exit with its status.

    After the window, the process ends at once (its files are written and synced, its threads stopped):
    the interpreter's own clean-up, which destroys Qt's and numba's objects in no set order, crashed it
    now and then (a segmentation fault after a clean close, about 1 exit in 40 under load)."""
    status = main()
    if "PySide6.QtWidgets" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status if isinstance(status, int) else 1)
    raise SystemExit(status)


if __name__ == "__main__":
    run()
