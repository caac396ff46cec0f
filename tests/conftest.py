import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists: tests need no display

import atexit  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import pytest  # noqa: E402

# Qt's user settings go to a throw-away folder: no test reads or writes the user's nnviz settings.
_SETTINGS_HOME = tempfile.mkdtemp(prefix="nnviz-test-config-")
os.environ["XDG_CONFIG_HOME"] = _SETTINGS_HOME
atexit.register(shutil.rmtree, _SETTINGS_HOME, ignore_errors=True)
# The kernels specialised for a shape (nnviz/core/specialised.py) go to the project's pytest cache, not the user's:
# kept between runs, so only the first run compiles them.
os.environ.setdefault("NNVIZ_KERNEL_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), ".pytest_cache",
                                                       "nnviz-kernels"))


@pytest.fixture(autouse=True)
def no_running_worker_thread():
    """Fail any test that leaves a worker QThread running (then stop it, so later tests are not affected)."""
    yield
    worker = sys.modules.get("nnviz.gui.worker")
    if worker is None:  # no GUI code loaded: a core test
        return
    running = worker.stop_all_workers()
    assert not running, f"{running} worker QThread(s) still running after the test"


@pytest.fixture
def settings(tmp_path):
    """A QSettings in the test's temporary folder."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "nnviz.ini"), QSettings.Format.IniFormat)


WINDOW_SIZE = (1200, 800)


@pytest.fixture(scope="session")
def compiled_kernels():
    """The compiled engine compiled (or loaded) once, before the first window waits for it: from an empty numba
    cache that takes ~15 s, more on a busy machine (a fresh clone's first window timed out at 30 s once)."""
    from nnviz.core import kernels

    kernels.warm_up()


@pytest.fixture
def make_window(qtbot, settings, compiled_kernels):
    """make_window(config=None, settings=..., size=..., **options) -> a shown MainWindow whose comparison is
    ready; it never asks questions (confirm=False) and is closed after the test. The one window fixture of
    every GUI test."""
    from helpers import ready

    from nnviz.gui.main_window import MainWindow

    made = []

    def make(config=None, settings=settings, size=WINDOW_SIZE, **options):
        options.setdefault("confirm", False)
        window = MainWindow(config, settings=settings, **options)
        made.append(window)
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        qtbot.waitUntil(lambda: ready(window), timeout=30000)  # the epoch-0 state is on screen
        qtbot.wait(100)  # the layout settles (the map's extent follows the plot's size)
        return window

    yield make
    for window in made:
        window.controller.jobs.wait(30)  # no preparation thread outlives its test


@pytest.fixture
def window(make_window):
    """A window on the sgd preset with 200 points and 20 epochs."""
    from nnviz.core.training import preset_config

    return make_window(preset_config("sgd", n_samples=200, epochs=20))
