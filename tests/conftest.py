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
