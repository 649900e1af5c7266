"""A stage whose window is too short for a shortfall to show says so (a bound of 0 parts cannot fail; a
new-user trial saw such stages reported "passed" with no word)."""

from __future__ import annotations

from app.deploy.prediction import Band, bands_text, untestable


def test_a_bound_of_zero_parts_is_named_as_not_tested_before_confirmation():
    cnc, line = "CNC-02 throughput", "line output"
    predicted = {cnc: Band(cnc, 4.55, -0.4, 20), line: Band(line, 20.1, 6.2, 20)}
    before = {cnc: Band(cnc, 3.0, -1.0, 20), line: Band(line, 5.9, 1.0, 20)}
    assert untestable(predicted) == ["CNC-02 throughput"]
    text = bands_text(predicted, before)
    assert text.startswith("at least, with the change: CNC-02 throughput 0 parts")
    assert text.endswith("not tested in this window (bound 0): CNC-02 throughput; watch longer to test them")
    assert "not tested" not in bands_text({"line output": predicted["line output"]}, before)
