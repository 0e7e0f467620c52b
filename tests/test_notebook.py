"""notebook.table: a table shows once, as markdown, and its returned text adds no second (repr) output."""

from IPython.core.formatters import DisplayFormatter

from rethinking_lib import notebook


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
