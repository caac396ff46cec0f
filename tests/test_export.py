"""PNG and CSV export: files that load back at the requested size, and failures that name the path and
leave an existing file untouched (pytest-qt, offscreen)."""

import csv
import io

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel

from nnviz.core.comparison import Comparison, notebook_runs, preset_shared
from nnviz.core.datasets import make_hard
from nnviz.core.network import Layout, init_params
from nnviz.gui.boundary_view import BoundaryView
from nnviz.gui.export import ExportError, render_plot, save_csv, save_map_png, save_plot_png, save_widget_png

OLD = b"old contents"


@pytest.fixture
def widget(qtbot):
    label = QLabel("nnviz export")
    label.setStyleSheet("background: #ffcc00;")
    qtbot.addWidget(label)
    label.resize(321, 123)
    label.show()
    qtbot.waitExposed(label)
    return label


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.plot(np.arange(10), np.arange(10) ** 2)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def boundary(qtbot):
    view = BoundaryView(resolution=40)
    qtbot.addWidget(view)
    view.resize(500, 400)
    X, y = make_hard(200, seed=1)
    view.set_data(X, y)
    view.set_model(init_params((2, 3, 1), 0), Layout((2, 3, 1)), "relu")
    return view


def _only_file(folder):
    return sorted(p.name for p in folder.iterdir())


def test_widget_png_loads_back_at_the_widget_size(widget, tmp_path):
    path = tmp_path / "window.png"
    save_widget_png(widget, path)
    image = QImage(str(path))
    ratio = widget.devicePixelRatioF()
    assert (image.width(), image.height()) == (round(321 * ratio), round(123 * ratio))
    assert image.pixelColor(2, 2).name() == "#ffcc00"
    assert _only_file(tmp_path) == ["window.png"]  # no temporary file left


def test_plot_png_at_a_requested_width(plot, tmp_path):
    save_plot_png(plot, tmp_path / "plot.png", width=1000)
    image = QImage(str(tmp_path / "plot.png"))
    assert image.width() == 1000 and image.height() == 750  # the plot's 4:3 kept
    save_plot_png(plot.getPlotItem(), tmp_path / "item.png")  # an item works too, at its size
    assert QImage(str(tmp_path / "item.png")).width() == round(plot.getPlotItem().sceneBoundingRect().width())
    assert render_plot(plot, width=200).width() == 200
    with pytest.raises(ValueError, match="width=5"):
        save_plot_png(plot, tmp_path / "small.png", width=5)
    with pytest.raises(TypeError, match="plot"):
        save_plot_png(object(), tmp_path / "x.png")


def test_map_png_at_any_width(boundary, tmp_path):
    save_map_png(boundary, tmp_path / "map.png", width=1600)
    image = QImage(str(tmp_path / "map.png"))
    assert image.width() == 1600 and image.height() > 400
    assert _only_file(tmp_path) == ["map.png"]


@pytest.mark.parametrize("kind", ["widget", "plot", "map"])
def test_a_failing_path_names_it_and_leaves_an_existing_file_untouched(kind, widget, plot, boundary, tmp_path):
    save = {
        "widget": lambda path: save_widget_png(widget, path),
        "plot": lambda path: save_plot_png(plot, path, width=300),
        "map": lambda path: save_map_png(boundary, path, width=300),
    }[kind]
    missing = tmp_path / "no such folder" / "out.png"
    with pytest.raises(ExportError, match=f"^{missing}: cannot write .*No such file or directory"):
        save(missing)
    with pytest.raises(ExportError, match="is a folder"):
        save(tmp_path)


@pytest.mark.parametrize("kind", ["widget", "plot", "map"])
def test_a_failure_at_the_rename_leaves_an_existing_file_untouched(kind, widget, plot, boundary, tmp_path,
                                                                   monkeypatch):
    save = {
        "widget": lambda path: save_widget_png(widget, path),
        "plot": lambda path: save_plot_png(plot, path, width=300),
        "map": lambda path: save_map_png(boundary, path, width=300),
    }[kind]
    existing = tmp_path / "out.png"
    existing.write_bytes(OLD)

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("nnviz.core.files.os.replace", refuse)
    with pytest.raises(ExportError, match=f"^{existing}: cannot write .*: Permission denied$"):
        save(existing)
    assert existing.read_bytes() == OLD and _only_file(tmp_path) == ["out.png"]


def test_an_encoder_failure_leaves_the_old_file(widget, tmp_path, monkeypatch):
    existing = tmp_path / "out.png"
    existing.write_bytes(OLD)
    monkeypatch.setattr("PySide6.QtGui.QPixmap.save", lambda self, *args: False)
    with pytest.raises(ExportError, match=f"^{existing}: cannot write the window image: .*PNG"):
        save_widget_png(widget, existing)
    assert existing.read_bytes() == OLD and _only_file(tmp_path) == ["out.png"]


def test_csv_export_parses_back(tmp_path):
    comp = Comparison(preset_shared(), notebook_runs()[:2])
    for _ in range(3):
        comp.step()
    path = tmp_path / "runs.csv"
    save_csv(path, comp.histories(), comp.has_test)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(rows) == 2 * 4  # epochs 0..3 of two runs
    assert rows[5]["run"] == "mini-batch" and int(rows[5]["epoch"]) == 1
    assert float(rows[5]["cost"]) == comp.by_name("mini-batch").history.column("cost")[1]
    with pytest.raises(ExportError, match="no such folder"):
        save_csv(tmp_path / "no such folder" / "x.csv", comp.histories(), comp.has_test)


# ---- one exporter: PNG bytes in memory, written atomically with the user's umask --------------------

@pytest.mark.parametrize("kind", ["widget", "plot", "map", "csv"])
@pytest.mark.parametrize("step", ["write", "fsync"])
def test_a_full_disk_says_so_and_leaves_the_old_file(kind, step, widget, plot, boundary, tmp_path, monkeypatch):
    import errno

    from nnviz.core import files

    comp = Comparison(preset_shared(), notebook_runs()[:1])
    save = {
        "widget": lambda path: save_widget_png(widget, path),
        "plot": lambda path: save_plot_png(plot, path, width=300),
        "map": lambda path: save_map_png(boundary, path, width=300),
        "csv": lambda path: save_csv(path, comp.histories(), comp.has_test),
    }[kind]
    existing = tmp_path / "out.bin"
    existing.write_bytes(OLD)

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, step, full)
    with pytest.raises(ExportError) as info:
        save(existing)
    monkeypatch.undo()
    assert str(info.value).startswith(f"{existing}: cannot write ")
    assert str(info.value).endswith(": no space left on the device") and "\n" not in str(info.value)
    assert existing.read_bytes() == OLD and _only_file(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_exports_get_the_users_umask(mask, mode, widget, tmp_path):
    import os
    import stat

    previous = os.umask(mask)
    try:
        save_widget_png(widget, tmp_path / "w.png")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "w.png").stat().st_mode) == mode


def test_png_bytes_are_a_png_of_the_image(widget):
    from nnviz.gui.export import png_bytes

    data = png_bytes(widget.grab())
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = QImage.fromData(data, "PNG")
    assert image.width() == widget.grab().width()
    with pytest.raises(ExportError, match="empty"):
        png_bytes(QImage())


def test_a_long_path_is_cut_in_the_message(widget, tmp_path):
    path = tmp_path / ("d" * 5000) / "x.png"
    with pytest.raises(ExportError) as info:
        save_widget_png(widget, path)
    assert len(str(info.value)) < 300
