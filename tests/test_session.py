"""Session files: exact round trips, atomic saves, each kind of malformed file refused with its message;
the long-form CSV."""

import csv
import io
import json
import os

import pytest

from nnviz.core.comparison import Comparison, History, RunSpec, SharedSettings, notebook_runs, preset_shared
from nnviz.core.session import (
    VERSION,
    SessionError,
    comparison_csv,
    load_session,
    parse_session,
    save_session,
    session_text,
)

SHARED = SharedSettings(dataset="moons", n_samples=40, noise=0.2, data_seed=3, shape=(2, 4, 1), init_seed=5,
                        init="glorot", engine="numpy")
RUNS = (
    RunSpec("sgd", "#1f77b4", learning_rate=0.05, epochs=3),
    RunSpec("batch, large \"β\"", "#ff7f0e", visible=False, learning_rate=0.3, batch_size=16, epochs=4, l2=1e-3),
    RunSpec("decay", "#2ca02c", learning_rate=0.1, batch_size=4, schedule="exponential", gamma=0.1, epochs=2),
)


def trained(shared=SHARED, runs=RUNS):
    comparison = Comparison(shared, runs)
    comparison.run_to_end()
    return comparison


def document(**changes):
    """A valid session document as a dict, with top-level keys replaced."""
    doc = json.loads(session_text(SHARED, RUNS))
    doc.update(changes)
    return doc


def refused(tmp_path, content) -> str:
    path = tmp_path / "bad.nnviz.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    with pytest.raises(SessionError) as info:
        load_session(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


@pytest.mark.parametrize("test_fraction", [0.0, 0.25])
def test_save_then_load_gives_identical_settings_and_histories(tmp_path, test_fraction):
    comparison = trained(SHARED.replace(test_fraction=test_fraction))
    path = tmp_path / "s.nnviz.json"
    save_session(path, comparison.shared, comparison.specs(), comparison.histories())
    session = load_session(path)
    assert session.shared == comparison.shared and session.runs == tuple(RUNS)
    assert session.histories == comparison.histories() and session.warnings == () and session.path == path
    for name, history in comparison.histories().items():  # floats bit for bit, including elapsed seconds
        assert session.histories[name].to_columns() == history.to_columns()
    assert session.histories["decay"].has_test is (test_fraction > 0)
    save_session(tmp_path / "again.nnviz.json", session.shared, session.runs, session.histories)
    assert (tmp_path / "again.nnviz.json").read_text() == path.read_text()


def test_histories_are_optional_and_may_be_records(tmp_path):
    path = tmp_path / "s.nnviz.json"
    save_session(path, SHARED, RUNS)
    assert load_session(path).histories == {} and "histories" not in json.loads(path.read_text())
    comparison = trained()
    records = list(comparison.by_name("sgd").trainer.__class__(RUNS[0].config(SHARED)))
    save_session(path, SHARED, RUNS, {"sgd": records})
    assert list(load_session(path).histories) == ["sgd"]
    assert load_session(path).histories["sgd"].column("cost").tolist() == [r.cost for r in records]


def test_the_notebook_session_round_trips():
    text = session_text(preset_shared(), notebook_runs())
    session = parse_session(text)
    assert session.shared == preset_shared() and list(session.runs) == notebook_runs()
    assert json.loads(text)["version"] == VERSION and json.loads(text)["format"] == "nnviz-session"


def test_saving_refuses_duplicate_names_and_histories_of_no_run(tmp_path):
    with pytest.raises(ValueError, match="name='sgd': two runs have that name"):
        session_text(SHARED, [RUNS[0], RUNS[0]])
    with pytest.raises(ValueError, match="histories: 'other' is the name of no run"):
        session_text(SHARED, RUNS, {"other": History(False)})


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "keep.nnviz.json"
    path.write_text("precious")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(SessionError, match="keep.nnviz.json: cannot write: no space left on the device$"):
        save_session(path, SHARED, RUNS)
    monkeypatch.undo()
    with pytest.raises(ValueError):
        save_session(path, SHARED, [RUNS[0], RUNS[0]])
    assert path.read_text() == "precious" and os.listdir(tmp_path) == ["keep.nnviz.json"]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(SessionError, match=r"nope.nnviz.json: no such file$"):
        load_session(tmp_path / "nope.nnviz.json")
    with pytest.raises(SessionError, match="is a folder, not a session file"):
        load_session(tmp_path)
    assert "empty file, not an nnviz session" in refused(tmp_path, "  \n")
    assert "not UTF-8 text (byte 1)" in refused(tmp_path, b"{\xff}")


def test_not_json_names_line_and_column(tmp_path):
    text = session_text(SHARED, RUNS).replace('"runs": [', '"runs": [,', 1)
    message = refused(tmp_path, text)
    line = text[: text.index("[,")].count("\n") + 1
    assert f"not valid JSON: Expecting value at line {line} column" in message


def test_json_that_python_refuses_is_reported_too(tmp_path):
    # An integer of more digits than Python converts is read as what it is, and refused where it stands.
    assert "version: must be an integer ≥ 1, got an integer of 5,000 digits" in refused(
        tmp_path, '{"format": "nnviz-session", "version": ' + "9" * 5000 + "}")
    assert "not an nnviz session: nested too deeply" in refused(tmp_path, "[" * 100_000 + "]" * 100_000)


def test_every_truncation_is_reported_as_such():
    text = session_text(SHARED, RUNS[:1], trained(runs=RUNS[:1]).histories()).rstrip()
    for end in range(1, len(text)):
        with pytest.raises(SessionError) as info:
            parse_session(text[:end], "f")
        assert str(info.value).startswith("f: truncated: the JSON stops early ("), (end, str(info.value))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="other"), 'not an nnviz session: format "other", expected "format": "nnviz-session"'),
    (lambda d: d.pop("format"), 'not an nnviz session: no format, expected "format": "nnviz-session"'),
    (lambda d: d.update(version=VERSION + 1), f"version {VERSION + 1} is newer than this nnviz reads (up to "),
    (lambda d: d.update(version="1"), 'version: must be an integer ≥ 1, got "1"'),
    (lambda d: d.pop("version"), "version: must be an integer ≥ 1, got none"),
    (lambda d: d.pop("runs"), ": missing runs"),
    (lambda d: d.update(runs={}), "runs: must be a list [...], got an object"),
    (lambda d: d.update(shared=[]), "shared: must be an object {...}, got a list"),
    (lambda d: d["runs"][2].update(learning_rate="fast"), 'runs[2].learning_rate: must be a number, got "fast"'),
    (lambda d: d["runs"][1].update(batch_size=2.0), "runs[1].batch_size: must be an integer, got 2.0"),
    (lambda d: d["runs"][0].update(visible=1), "runs[0].visible: must be true or false, got 1"),
    (lambda d: d["runs"][0].update(epochs=None), "runs[0].epochs: must be an integer, got null"),
    (lambda d: d["shared"].update(shape="2,4,1"), 'shared.shape: must be a list of integers, got "2,4,1"'),
    (lambda d: d["runs"][1].update(momentum=1.5), "runs[1].momentum=1.5: must be from 0 to below 1"),
    (lambda d: d["runs"][0].update(learning_rate=0), "runs[0].learning_rate=0: must be finite and > 0"),
    (lambda d: d["runs"][0].update(colour="blue"), "runs[0].colour='blue': must be \"#rrggbb\""),
    (lambda d: d["runs"][0].update(name=""), "runs[0].name='': must be text of 1 to 60 printable characters"),
    (lambda d: d["shared"].update(dataset="hard", n_samples=1001),
     "shared.n_samples=1001: the 'hard' data set needs a multiple of 4"),
    (lambda d: d["shared"].update(shape=[2, 300, 1]), "shared.shape=2,300,1: must be (2, h1, ..., hk, 1)"),
    (lambda d: d["shared"].update(engine="gpu"), "shared.engine='gpu': allowed are compiled, numpy"),
    (lambda d: d["runs"][1].pop("epochs"), "runs[1]: missing epochs"),
    (lambda d: d["runs"][2].update(name="sgd"), 'runs[2].name: "sgd" is also the name of runs[0]'),
    (lambda d: d["runs"].append(3), "runs[3]: must be an object {...}, got 3"),
])
def test_each_malformed_document_is_refused_naming_the_problem(tmp_path, change, message):
    doc = document()
    change(doc)
    assert message in refused(tmp_path, doc)


def test_a_whole_file_that_is_no_object_is_refused(tmp_path):
    assert "not an nnviz session: the file holds a list, not an object {...}" in refused(tmp_path, "[1, 2]")


def _with_history(mutate):
    doc = json.loads(session_text(SHARED, RUNS, trained().histories()))
    mutate(doc["histories"])
    return doc


@pytest.mark.parametrize("mutate, message", [
    (lambda h: h.update(other=h["sgd"]), 'histories["other"]: no run has that name'),
    (lambda h: h["sgd"]["cost"].pop(), 'histories["sgd"].cost: has 3 values, but epoch has 4'),
    (lambda h: h["sgd"]["cost"].__setitem__(1, "x"), 'histories["sgd"].cost[1]: must be a finite number ≥ 0, got "x"'),
    (lambda h: h["sgd"]["accuracy"].__setitem__(0, 2), 'histories["sgd"].accuracy[0]: must be a number from 0 to 1'),
    (lambda h: h["sgd"]["updates"].__setitem__(2, 1.5), 'histories["sgd"].updates[2]: must be an integer ≥ 0, got 1.5'),
    (lambda h: h["sgd"]["epoch"].__setitem__(2, 1), 'histories["sgd"].epoch[2]: epochs must increase, got 1 after 1'),
    (lambda h: h["sgd"].pop("elapsed_s"), 'histories["sgd"]: missing elapsed_s'),
    (lambda h: h.update(sgd=[]), 'histories["sgd"]: must be an object {...}, got a list'),
])
def test_malformed_histories_are_refused(tmp_path, mutate, message):
    assert message in refused(tmp_path, _with_history(mutate))


def test_unknown_keys_are_reported_not_dropped_silently(tmp_path):
    doc = document(comment="by hand")
    doc["shared"]["seed"] = 1
    doc["runs"][1]["optimiser"] = "adam"  # a misspelt field is not taken for optimizer
    path = tmp_path / "s.nnviz.json"
    path.write_text(json.dumps(doc)[:-1] + ', "comment": "twice"}')
    session = load_session(path)
    assert session.runs == RUNS
    assert session.warnings == (
        'key "comment" appears twice in one object; the last value is used',
        "comment: unknown key, ignored",
        "shared.seed: unknown key, ignored",
        "runs[1].optimiser: unknown key, ignored",
    )


def test_a_refused_file_is_left_as_it_was(tmp_path):
    path = tmp_path / "bad.nnviz.json"
    path.write_text('{"format": "nnviz-session", "version": 99}')
    with pytest.raises(SessionError):
        load_session(path)
    assert path.read_text() == '{"format": "nnviz-session", "version": 99}'


def _parse_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("test_fraction", [0.0, 0.25])
def test_csv_is_long_form_and_parses_back_at_full_precision(test_fraction):
    comparison = trained(SHARED.replace(test_fraction=test_fraction))
    rows = _parse_csv(comparison_csv(comparison.histories(), comparison.has_test))
    columns = ["run", "epoch", "cost", "accuracy", "learning_rate", "updates", "samples", "elapsed_s"]
    assert list(rows[0]) == columns + (["test_cost", "test_accuracy"] if test_fraction else [])
    assert len(rows) == sum(spec.epochs + 1 for spec in RUNS)
    for spec in RUNS:
        history = comparison.by_name(spec.name).history
        mine = [r for r in rows if r["run"] == spec.name]
        assert [int(r["epoch"]) for r in mine] == list(range(spec.epochs + 1))
        for name in history.columns:
            kind = int if name in ("epoch", "updates", "samples") else float
            assert [kind(r[name]) for r in mine] == history.column(name).tolist(), (spec.name, name)


def test_csv_needs_test_columns_when_asked_for_them():
    with pytest.raises(ValueError, match="history of 'sgd': has no test columns"):
        comparison_csv(trained(runs=RUNS[:1]).histories(), has_test=True)


# ---- huge integers, full batch, long values --------------------------------------------------------



@pytest.mark.parametrize("place, literal, message", [
    ("runs[0].learning_rate", "1" + "0" * 400,
     "runs[0].learning_rate=an integer of 401 digits: must be finite and > 0"),
    ("runs[0].learning_rate", "-" + "9" * 10_000, "runs[0].learning_rate=a negative integer of 10,000 digits: must be"),
    ("runs[0].l2", "9" * 310, "runs[0].l2=an integer of 310 digits: must be finite and ≥ 0"),
    ("runs[0].epochs", "9" * 400, "runs[0].epochs=an integer of 400 digits: must be an integer from 0 to 10000000"),
    ("runs[0].epochs", "9" * 60, "runs[0].epochs=999999999999"),
    ("runs[0].batch_size", "9" * 10_000, "runs[0].batch_size=an integer of 10,000 digits: must be an integer from 1"),
    ("shared.data_seed", "9" * 10_000, "shared.data_seed=an integer of 10,000 digits: must be an integer from 0 to"),
    ("shared.noise", "1" + "0" * 400, "shared.noise=an integer of 401 digits: must be from 0 to 1"),
])
def test_a_huge_integer_setting_is_refused_naming_the_place_and_the_range(tmp_path, place, literal, message):
    section, name = place.split(".")
    doc = json.loads(session_text(SHARED, RUNS))
    target = doc["runs"][0] if section == "runs[0]" else doc["shared"]
    target[name] = "HUGE"
    text = json.dumps(doc).replace('"HUGE"', literal)
    got = refused(tmp_path, text)
    assert message in got and len(got) < 300, got


def test_a_huge_integer_in_a_shape_is_refused(tmp_path):
    doc = json.loads(session_text(SHARED, RUNS))
    doc["shared"]["shape"] = [2, "HUGE", 1]
    got = refused(tmp_path, json.dumps(doc).replace('"HUGE"', "7" * 10_000))
    assert "shared.shape=2,an integer of 10,000 digits,1: must be (2, h1, ..., hk, 1)" in got and len(got) < 300


@pytest.mark.parametrize("column, literal, message", [
    ("updates", str(2**63), f"updates[1]: must be an integer ≥ 0 and below 2⁶³, got {2**63}"),
    ("epoch", "9" * 10_000, "epoch[1]: must be an integer ≥ 0, got an integer of 10,000 digits"),
    ("cost", "1" + "0" * 400, "cost[1]: must be a finite number ≥ 0, got an integer of 401 digits"),
    ("accuracy", "1" + "0" * 99, "accuracy[1]: must be a number from 0 to 1, got an integer of 100 digits"),
    ("elapsed_s", "1e400", "elapsed_s[1]: must be a finite number ≥ 0, got inf"),
])
def test_a_huge_number_in_a_history_is_refused_naming_the_place(tmp_path, column, literal, message):
    doc = json.loads(session_text(SHARED, RUNS, trained().histories()))
    doc["histories"]["sgd"][column][1] = "HUGE"
    got = refused(tmp_path, json.dumps(doc).replace('"HUGE"', literal))
    assert f'histories["sgd"].{message}' in got and len(got) < 300, got


def test_a_huge_number_ends_compare_with_one_line_not_a_traceback(tmp_path, capsys):
    from helpers import run_cli

    doc = json.loads(session_text(SHARED, RUNS, trained().histories()))
    doc["runs"][0]["learning_rate"] = "HUGE"
    path = tmp_path / "huge.nnviz.json"
    path.write_text(json.dumps(doc).replace('"HUGE"', "1" + "0" * 400))
    code, out, err = run_cli(["compare", "--session", str(path)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "runs[0].learning_rate=an integer of 401 digits: must be finite and > 0" in err


def test_full_batch_is_saved_as_full_and_read_back():
    full = RunSpec("full", learning_rate=0.5, batch_size=1_000_000, epochs=2)
    text = session_text(SHARED, [full, RUNS[1]])
    runs = json.loads(text)["runs"]
    assert runs[0]["batch_size"] == "full" and runs[1]["batch_size"] == 16
    session = parse_session(text)
    assert session.runs[0].batch_size == 1_000_000 and session.runs == (full, RUNS[1])
    Comparison(session.shared, session.runs).run_to_end()  # trains as a full batch
    doc = json.loads(text)
    doc["runs"][0]["batch_size"] = 1_000_000  # the number is still read
    assert parse_session(json.dumps(doc)).runs[0] == full


@pytest.mark.parametrize("value, message", [
    ("Full", 'runs[0].batch_size: must be an integer, got "Full"; "full" is allowed too'),
    ("all", 'runs[0].batch_size: must be an integer, got "all"; "full" is allowed too'),
    (0, "runs[0].batch_size=0: must be an integer from 1 to 1000000"),
])
def test_a_bad_batch_size_says_full_is_allowed(tmp_path, value, message):
    doc = document()
    doc["runs"][0]["batch_size"] = value
    assert message in refused(tmp_path, doc)


def test_long_values_are_cut_in_messages_and_warnings(tmp_path):
    long = "x" * 10_000_000
    doc = document()
    doc["runs"][0]["schedule"] = long
    got = refused(tmp_path, doc)
    assert got.startswith(f"{tmp_path / 'bad.nnviz.json'}: runs[0].schedule='xxxx") and len(got) < 300
    doc = document()
    doc["runs"][0]["name"] = long
    assert len(refused(tmp_path, doc)) < 300
    doc = json.loads(session_text(SHARED, RUNS, trained().histories()))
    doc["histories"][long] = doc["histories"]["sgd"]
    got = refused(tmp_path, doc)
    assert "no run has that name" in got and len(got) < 300
    doc = document()
    doc["runs"][0][long] = 1
    path = tmp_path / "warn.nnviz.json"
    path.write_text(json.dumps(doc))
    assert all(len(w) < 200 for w in load_session(path).warnings)


def test_a_file_written_before_init_existed_opens_with_the_notebooks_weights():
    doc = json.loads(session_text(SHARED, RUNS))
    del doc["shared"]["init"]
    session = parse_session(json.dumps(doc), "old.nnviz.json")
    assert session.shared == SHARED.replace(init="notebook") and session.warnings == ()
    doc["shared"]["init"] = "lecun"
    with pytest.raises(SessionError, match=r"shared\.init='lecun': allowed are notebook, glorot, he"):
        parse_session(json.dumps(doc), "bad.nnviz.json")


OPTIMIZER_RUNS = (
    RunSpec("adam", "#1f77b4", learning_rate=0.02, batch_size=8, optimizer="adam", beta1=0.85, beta2=0.995,
            epsilon=1e-7, epochs=3),
    RunSpec("rmsprop", "#ff7f0e", learning_rate=0.01, batch_size=8, optimizer="rmsprop", rho=0.75, epsilon=1e-6,
            epochs=2),
    RunSpec("nesterov", "#2ca02c", learning_rate=0.01, optimizer="nesterov", momentum=0.8, epochs=2),
    RunSpec("notebook", "#d62728", learning_rate=0.05, momentum=0.3, update_order="notebook", epochs=2),
)


def test_optimizer_fields_round_trip(tmp_path):
    comparison = trained(runs=OPTIMIZER_RUNS)
    path = tmp_path / "opt.nnviz.json"
    save_session(path, SHARED, OPTIMIZER_RUNS, comparison.histories())
    session = load_session(path)
    assert session.runs == OPTIMIZER_RUNS and session.warnings == ()
    assert [(r.optimizer, r.update_order) for r in session.runs] == [
        ("adam", "true"), ("rmsprop", "true"), ("nesterov", "true"), ("sgd", "notebook")]
    assert session.runs[0].epsilon == 1e-7 and session.runs[1].rho == 0.75
    saved = json.loads(path.read_text())["runs"][0]
    assert {k: saved[k] for k in ("optimizer", "rho", "epsilon", "beta1", "beta2", "update_order")} == {
        "optimizer": "adam", "rho": 0.9, "epsilon": 1e-7, "beta1": 0.85, "beta2": 0.995, "update_order": "true"}


def test_a_file_written_before_optimizers_existed_opens_as_it_trained():
    doc = json.loads(session_text(SHARED, RUNS))
    for run in doc["runs"]:
        for key in ("optimizer", "rho", "epsilon", "beta1", "beta2", "update_order"):
            del run[key]
    session = parse_session(json.dumps(doc), "old.nnviz.json")
    assert session.runs == RUNS and session.warnings == ()
    assert all(r.optimizer == "sgd" and r.update_order == "true" for r in session.runs)


@pytest.mark.parametrize("key, value, message", [
    ("optimizer", "adagrad", "runs[0].optimizer='adagrad': allowed are sgd, heavy-ball, nesterov, rmsprop, adam"),
    ("optimizer", 3, "runs[0].optimizer: must be text, got 3"),
    ("rho", 1.5, "runs[0].rho=1.5: must be from 0 to below 1"),
    ("epsilon", 0, "runs[0].epsilon=0: must be finite and > 0"),
    ("beta1", "0.9", 'runs[0].beta1: must be a number, got "0.9"'),
    ("beta2", 1, "runs[0].beta2=1: must be from 0 to below 1"),
    ("update_order", "deferred", "runs[0].update_order='deferred': allowed are true, notebook"),
])
def test_bad_optimizer_fields_are_refused_naming_the_place(tmp_path, key, value, message):
    doc = document()
    doc["runs"][0][key] = value
    assert message in refused(tmp_path, doc)


def test_notebook_order_with_another_optimizer_is_refused_in_one_line(tmp_path):
    doc = document()
    doc["runs"][1].update(optimizer="adam", update_order="notebook")
    message = refused(tmp_path, doc)
    assert "runs[1]" in message and "update_order='notebook': defined for optimizer sgd only" in message
