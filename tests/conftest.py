import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists: tests need no display
