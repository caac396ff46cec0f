"""The desktop window (PySide6 + pyqtgraph): the only part of nnviz that imports Qt."""
