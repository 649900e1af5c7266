"""Shift calendars in the factory file: a good one loads and saves back the same; each bad one is refused
with its field named."""

from __future__ import annotations

import json

import pytest

from app.model.io import dumps_factory, loads_factory
from app.model.problems import FactoryFileError
from app.sim.model import SimInputError, compile_model

GOOD = {
    "start_date": "2026-11-30",
    "shifts": {
        "weekdays": [
            {"name": "early", "start": "06:00", "end": "14:00", "breaks": [{"start": "09:00", "end": "09:15"}]},
            {"name": "late", "start": "14:00", "end": "22:00"},
        ],
        "friday": [{"name": "night", "start": "22:00", "end": "06:00", "breaks": [{"start": "02:00", "end": "02:30"}]}],
    },
    "holidays": ["2026-12-25"],
    "maintenance": [
        {"machines": ["CNC-01", "CNC-02"], "weekday": "saturday", "start": "08:00", "end": "12:00"},
        {"machines": ["CNC-01"], "date": "2026-12-28", "start": "06:00", "end": "10:00"},
    ],
}


@pytest.fixture
def demo(demo_text) -> dict:
    return json.loads(demo_text)


def problem(demo: dict, calendar: dict) -> str:
    demo.setdefault("simulation", {})["calendar"] = calendar
    with pytest.raises(FactoryFileError) as info:
        loads_factory(json.dumps(demo), "demo.json")
    return str(info.value)


def test_a_calendar_loads_and_saves_back_unchanged(demo):
    demo.setdefault("simulation", {})["calendar"] = GOOD
    f = loads_factory(json.dumps(demo), "demo.json")
    assert f.simulation.calendar is not None and f.simulation.calendar.shifts["friday"][0].name == "night"
    assert loads_factory(dumps_factory(f), "again.json") == f
    assert compile_model(f).timetable is not None


def test_overlapping_shifts_are_refused(demo):
    cal = {"shifts": {"monday": [{"start": "06:00", "end": "14:00"}, {"start": "13:00", "end": "21:00"}]}}
    assert problem(demo, cal) == (
        "demo.json: simulation.calendar.shifts: monday[1] (13:00–21:00) overlaps monday[0] (06:00–14:00): "
        "a machine works one shift at a time"
    )


def test_a_night_shift_into_the_next_mornings_shift_is_an_overlap(demo):
    cal = {"shifts": {"sunday": [{"start": "22:00", "end": "06:30"}], "weekdays": [{"start": "06:00", "end": "14:00"}]}}
    assert "sunday[0] (22:00–06:30)" in problem(demo, cal) and "weekdays[0] (06:00–14:00) on monday" in problem(demo, cal)


def test_a_break_outside_or_longer_than_its_shift_is_refused(demo):
    outside = {"shifts": {"monday": [{"start": "06:00", "end": "14:00", "breaks": [{"start": "13:30", "end": "14:30"}]}]}}
    assert problem(demo, outside) == (
        "demo.json: simulation.calendar.shifts.monday[0].breaks: breaks[0] (13:30–14:30) is not inside its shift (06:00–14:00)"
    )
    longer = {"shifts": {"monday": [{"start": "06:00", "end": "08:00", "breaks": [{"start": "06:00", "end": "09:00"}]}]}}
    assert problem(demo, longer).endswith("is not inside its shift (06:00–08:00) — it is longer than the shift")


def test_maintenance_on_an_unknown_machine_is_refused(demo):
    cal = {"maintenance": [{"machines": ["CNC-01", "GHOST"], "weekday": "sunday", "start": "06:00", "end": "08:00"}]}
    assert problem(demo, cal) == 'demo.json: simulation.calendar.maintenance[0].machines[1]: unknown machine "GHOST"'


def test_maintenance_on_an_unknown_machine_is_refused_by_the_simulation_too(demo):
    from app.model.factory import Calendar, MaintenanceWindow

    f = loads_factory(json.dumps(demo), "demo.json")
    cal = Calendar(maintenance=[MaintenanceWindow(machines=["GHOST"], weekday="monday", start="06:00", end="07:00")])
    f = f.model_copy(update={"simulation": f.simulation.model_copy(update={"calendar": cal})})
    with pytest.raises(SimInputError) as info:
        compile_model(f)
    assert str(info.value) == 'simulation.calendar.maintenance[0].machines[0]: unknown machine "GHOST"'


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        ({"holidays": ["2026-12-25"]}, "simulation.calendar.holidays: holidays are dates: give the calendar's start_date"),
        ({"start_date": "2026-02-30"}, 'simulation.calendar.start_date: "2026-02-30" is not a date'),
        ({"shifts": {"monday": [{"start": "25:00", "end": "26:00"}]}}, "simulation.calendar.shifts.monday[0].start: "),
        ({"shifts": {"someday": []}}, "simulation.calendar.shifts.someday"),
        (
            {"maintenance": [{"machines": ["CNC-01"], "start": "06:00", "end": "08:00"}]},
            "simulation.calendar.maintenance[0]: give the window's weekday (every week) or its date (once)",
        ),
    ],
)
def test_other_bad_calendars_name_their_field(demo, calendar, message):
    assert message in problem(demo, calendar)
