"""notebook.table: a table shows once, as markdown, and its returned text adds no second (repr) output."""

from IPython.core.formatters import DisplayFormatter

from rethinking_lib.pages import notebook


def test_table_returns_markdown_that_displays_nothing_more(capsys):
    md = notebook.table([{"a": 1, "b": 0.5}, {"a": 20_000, "b": None}])
    assert md.splitlines() == ["| a | b |", "|---|---|", "| 1 | 0.500 |", "| 20,000 | - |"]
    assert capsys.readouterr().out.strip() == md  # shown once (printed outside a notebook)
    assert isinstance(md, str)
    data, _ = DisplayFormatter().format(md)  # what a cell ending in notebook.table(...) would add as output
    assert data == {}
    data, _ = DisplayFormatter().format(str(md))  # a plain string would show as its repr
    assert "text/plain" in data


def test_empty_table_shows_nothing(capsys):
    assert notebook.table([]) == ""
    assert capsys.readouterr().out == ""


def test_results_on_drive_mounts_drive_and_points_the_store_there(tmp_path, monkeypatch):
    import os
    import sys
    import types

    import pytest

    with pytest.raises(RuntimeError, match="Colab"):
        notebook.results_on_drive()
    mounted = []
    colab = types.ModuleType("google.colab")
    colab.drive = types.SimpleNamespace(mount=mounted.append)
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.delenv("RETHINKING_RESULTS", raising=False)
    path = notebook.results_on_drive(mount=str(tmp_path))
    assert mounted == [str(tmp_path)]
    assert path == os.environ["RETHINKING_RESULTS"] == str(tmp_path / notebook.DRIVE_FOLDER)
    assert os.path.isdir(path)


def test_every_chapter_says_how_to_survive_a_disconnect_before_training():
    """Near the top (before the install cell): one markdown line on Drive and resuming; the DRIVE knob reaches
    setup, and the chapter shows its plan (runs, stored, estimate) before any training cell."""
    from pathlib import Path

    import nbformat

    chapters = sorted((Path(__file__).resolve().parents[1] / "book").glob("0*.ipynb"))
    assert len(chapters) >= 8
    for path in chapters:
        cells = nbformat.read(path, as_version=4).cells
        install = next(i for i, c in enumerate(cells) if c.cell_type == "code" and "google.colab" in c.source)
        hint = [c for c in cells[:install] if c.cell_type == "markdown" and "RETHINKING_RESULTS" in c.source]
        assert len(hint) == 1 and "Drive" in hint[0].source and "resume" in hint[0].source, path.name
        assert len(hint[0].source.splitlines()) == 1, path.name
        params = next(c for c in cells if "parameters" in c.metadata.get("tags", []))
        assert "DRIVE = False" in params.source, path.name
        setup = next(i for i, c in enumerate(cells) if "notebook.setup(PROFILE, drive=DRIVE)" in c.source)
        assert f'plan.show(PROFILE, "{path.stem}")' in cells[setup].source, path.name
        assert all(not c.outputs for c in cells if c.cell_type == "code"), path.name


def test_glue_all_glues_every_named_number_and_refuses_text(monkeypatch):
    import pytest

    with pytest.raises(TypeError, match="best_measure"):  # a word belongs in a sentence, not in a glued number
        notebook.glue_all({"best_tau": 0.5, "best_measure": "sharpness"})
    seen = []
    monkeypatch.setattr(notebook, "glue", lambda name, value: seen.append((name, value)))
    notebook.glue_all({"ch1_gap": 0.81, "ch1_n_test": 1000})
    assert seen == [("ch1_gap", 0.81), ("ch1_n_test", 1000)]


def test_knobs_keeps_only_what_the_reader_set():
    assert notebook.knobs(n=None, draws=3, delta=0.1) == {"draws": 3, "delta": 0.1}
    assert notebook.knobs(models=None) == {}


def test_show_displays_each_figure_once_and_closes_it(capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = [plt.figure(), plt.figure()]
    notebook.show(figs)
    assert capsys.readouterr().out.count("Figure") == 2  # displayed (printed outside a notebook)
    assert not any(plt.fignum_exists(f.number) for f in figs)


def test_empty_markdown_shows_nothing(monkeypatch, capsys):
    """An empty note (e.g. appendix.precision_note of fp32 runs) adds no output: in a notebook,
    ``display(Markdown(""))`` leaves the text/plain ``<IPython.core.display.Markdown object>`` on the page."""
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", shown.append)
    for text in ("", "  \n"):
        notebook.markdown(text)
    assert shown == []
    notebook.markdown("*a note*")
    assert len(shown) == 1 and shown[0].data == "*a note*"
    assert capsys.readouterr().out == ""
