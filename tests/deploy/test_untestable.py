"""A stage whose window is too short for a shortfall to show says so (a bound of 0 parts cannot fail; a
new-user trial saw such stages reported "passed" with no word), and the bounds read as bounds (issue 16 F11:
"without the change 5.9" beside "mean 20.1" read like a mean)."""

from __future__ import annotations

from app.deploy.plan import Stage
from app.deploy.prediction import Band, bands_text, untestable
from app.deploy.service import StageReport, StageState, passed_text
from app.deploy.text import stage_row

CNC, LINE = "CNC-02 throughput", "line output"
PREDICTED = {CNC: Band(CNC, 4.55, -0.4, 20), LINE: Band(LINE, 20.1, 6.2, 20)}
BEFORE = {CNC: Band(CNC, 3.0, -1.0, 20), LINE: Band(LINE, 5.9, 1.0, 20)}


def test_a_bound_of_zero_parts_is_named_as_not_tested_before_confirmation():
    assert untestable(PREDICTED) == ["CNC-02 throughput"]
    text = bands_text(PREDICTED, BEFORE, 0.99, 1800.0)
    assert text.startswith("at least (99% lower bounds): CNC-02 throughput 0 parts with the change (mean 4.55)")
    assert text.endswith(
        "CNC-02 throughput not tested: too few parts in 30 min of plant time for a shortfall to show (bound 0);"
        " watch longer to test it"
    )
    assert "not tested" not in bands_text({LINE: PREDICTED[LINE]}, BEFORE)


def test_the_bound_without_the_change_is_said_to_be_a_bound_beside_its_own_mean():
    text = bands_text({LINE: PREDICTED[LINE]}, BEFORE, 0.99)
    assert text == "at least (99% lower bounds): line output 6.2 parts with the change (mean 20.1), 1 without it (mean 5.9)"
    assert "without the change 1" not in text  # the old wording, a bound that read like a mean


def test_a_stage_that_passed_without_testing_a_count_says_so_in_its_state_and_in_the_end():
    tested = StageReport(Stage(1, (), 1800.0), StageState.PASSED)
    blind = StageReport(Stage(2, (), 1800.0), StageState.PASSED, untested=(CNC,))
    assert stage_row(tested)[2] == "passed"
    assert stage_row(blind)[2] == "passed — not tested: CNC-02 throughput"
    assert passed_text([tested]) == "the stage passed"
    assert passed_text([tested, tested]) == "all 2 stages passed"
    said = passed_text([tested, blind])
    assert not said.startswith("all") and "not everything was tested: stage 2: CNC-02 throughput not tested" in said
    one = passed_text([StageReport(Stage(1, (), 1800.0), StageState.PASSED, untested=(CNC,))])
    assert one.startswith("the stage passed, but not everything was tested: CNC-02 throughput not tested")
    assert "1 stages" not in one and "watch longer" in one
