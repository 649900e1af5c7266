"""The state Gantt: each machine's states over time, from recorded history or a simulation, as bars."""

from app.gantt.bars import GANTT_LEGEND, NO_DATA, UNKNOWN, GanttBars, Interval, rgb_of, state_label, tree_order
from app.gantt.service import GanttService

__all__ = ["GANTT_LEGEND", "NO_DATA", "UNKNOWN", "GanttBars", "GanttService", "Interval", "rgb_of", "state_label", "tree_order"]
