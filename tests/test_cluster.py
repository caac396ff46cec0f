"""Sweeps on a Dask cluster (a distributed.LocalCluster started here): the same results as on this machine,
stopping, and one-line errors for a bad or unreachable scheduler."""

import threading

import pytest

from nnviz.core import cluster
from nnviz.core.sweep import parse_axis, sweep, train_configs
from nnviz.core.training import preset_config

distributed = pytest.importorskip("distributed")  # the test extra installs it; `make test` always has it

BASE = preset_config("sgd", n_samples=120, epochs=4)
AXES = [parse_axis("learning_rate=1e-3:1:log:4"), parse_axis("momentum=0:0.9:lin:3")]


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None,
                                  silence_logs=40) as local:
        yield local.scheduler_address


def test_the_cluster_gives_the_local_results(scheduler):
    seen = []
    remote = sweep(BASE, AXES, seeds=2, target=0.6, on_result=seen.append, scheduler=scheduler)
    local = sweep(BASE, AXES, seeds=2, target=0.6, workers=1)
    assert remote == local and len(remote) == 4 * 3 * 2
    assert sorted(seen, key=lambda r: r.index) == remote


def test_histories_come_back_from_the_cluster(scheduler):
    configs = [BASE.replace(learning_rate=a) for a in (0.01, 0.03, 0.1, 0.3, 1.0)]
    remote = train_configs(configs, history=True, scheduler=scheduler)
    local = train_configs(configs, history=True, workers=1)
    for a, b in zip(remote, local, strict=True):
        assert a == b and list(a.costs) == list(b.costs)


def test_stopping_a_cluster_sweep_keeps_what_finished(scheduler):
    timer = threading.Timer(0.5, lambda: None)
    timer.start()
    results = sweep(BASE.replace(epochs=10_000_000), AXES[:1], scheduler=scheduler,
                    should_stop=lambda: not timer.is_alive())
    assert results == []


@pytest.mark.parametrize("address, words", [
    ("", "give the scheduler's address"),
    ("tcp://", "give the scheduler's address"),
    ("tcp://localhost:notaport", "give the scheduler's address"),  # found in review: a thread's traceback
    ("nonsense://x:1", "give the scheduler's address"),
    ("tcp://127.0.0.1:1", "cannot connect within"),
])
def test_bad_schedulers_are_one_line_errors(address, words, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(ValueError) as error:
        sweep(BASE, AXES, scheduler=address)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_the_command_line_sweeps_on_the_cluster(scheduler, tmp_path, capsys):
    from helpers import read_csv, run_cli

    common = ["--samples", "120", "--epochs", "3", "--x", "learning_rate=0.01:0.1:log:4", "--seeds", "2"]
    code, _, _ = run_cli(["sweep", *common, "--scheduler", scheduler, "--csv", str(tmp_path / "remote.csv")], capsys)
    assert code == 0
    code, _, _ = run_cli(["sweep", *common, "--workers", "1", "--csv", str(tmp_path / "local.csv")], capsys)
    assert code == 0
    assert read_csv((tmp_path / "remote.csv").read_text()) == read_csv((tmp_path / "local.csv").read_text())


@pytest.mark.parametrize("address, code, words", [
    ("tcp://", 2, "--scheduler: scheduler 'tcp://': give the scheduler's address"),
    ("tcp://127.0.0.1:1", 1, "--scheduler: scheduler 'tcp://127.0.0.1:1': cannot connect within"),
])
def test_the_command_lines_scheduler_errors(address, code, words, tmp_path, capsys, monkeypatch):
    from helpers import run_cli

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    out = tmp_path / "x.csv"
    got, _, err = run_cli(["sweep", "--x", "learning_rate=0.01:0.1:log:2", "--scheduler", address,
                           "--csv", str(out)], capsys)
    assert got == code and words in err and not out.exists()
