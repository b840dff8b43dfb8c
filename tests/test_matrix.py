"""The conformance matrix: cells as data, files written, rows updated in place."""

from __future__ import annotations

import json
from pathlib import Path

from conformance._matrix import FAIL, NOT_OFFERED, NOT_REACHED, PASS, judge, judge_all, render_index, write
from conformance._target import load


def test_a_correct_channel_passes_what_it_offers_and_the_rest_is_not_offered() -> None:
    row = judge(load("impls.rendezvous:channel"), profile="quick", capacities=(None, 0, 1), max_examples=8)
    assert row.verdict == "conforms"
    assert row.cells["rule 3"].state == PASS and row.cells["linearizability"].state == PASS
    assert row.cells["rule 1"].state == NOT_OFFERED and row.cells["rule 2"].state == NOT_OFFERED


def test_a_failure_is_a_linked_cell_and_an_optional_feature_is_withheld_to_judge_the_rest() -> None:
    row = judge(load("impls.broken.disconnected_without_value:channel"), profile="quick", capacities=(None,),
                max_examples=30)
    assert row.verdict == "fails"
    cell = row.cells["rule 6"]
    assert cell.state == FAIL and cell.link in row.counterexamples
    assert "Disconnected" in row.counterexamples[cell.link]
    assert row.runs[1] == "with close_receiver withheld"  # re-run without the feature the failure is about
    assert row.cells["rule 5"].state == PASS and "withheld" in row.cells["rule 5"].note


def test_files_index_and_update_of_named_rows(tmp_path: Path) -> None:
    rows = judge_all(["impls.rendezvous:channel", "impls.broken.rendezvous_buffers:channel", "no_such_module:x"],
                     profile="quick", max_examples=5)
    assert [r.verdict for r in rows] == ["conforms", "fails", "skipped"]
    write(rows, tmp_path, profile="quick", max_examples=5)
    pages = sorted(p.name for p in tmp_path.glob("python-*"))
    assert len(pages) == 2 and (tmp_path / "README.md").is_file()
    data = json.loads((tmp_path / pages[0]).read_text())
    assert [r["target"] for r in data["rows"]] == [r.target for r in rows]
    assert list((tmp_path / "counterexamples").glob("*rendezvous-buffers*"))
    index = render_index(tmp_path)
    assert "**fails**: rule 3" in index and "skipped" in index
    # Re-judging one target replaces its row only, and its stale counterexamples go.
    again = judge_all(["impls.broken.rendezvous_buffers:channel"], profile="quick", max_examples=5)
    again[0].cells["rule 3"].state = NOT_REACHED  # stand-in for a changed verdict
    again[0].counterexamples.clear()
    write(again, tmp_path, profile="quick", max_examples=5, merge=True)
    data = json.loads((tmp_path / pages[0]).read_text())
    assert [r["target"] for r in data["rows"]] == [r.target for r in rows]
    assert not list((tmp_path / "counterexamples").glob("*rendezvous-buffers*"))
