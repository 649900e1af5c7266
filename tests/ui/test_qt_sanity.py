"""The installed Qt binding must not corrupt reference counts: a live console emits signals all day."""

from __future__ import annotations

import sys

from PySide6 import QtCore


class _Emitter(QtCore.QObject):
    plain = QtCore.Signal()
    with_object = QtCore.Signal(object)
    with_text = QtCore.Signal(str, str)


def test_signal_emission_keeps_reference_counts_of_singletons(qapp):
    """PySide6 6.12.0's ``emit`` lost a reference to True per call and aborted Python 3.11 processes
    after a few thousand emits (``bool_dealloc``); pyproject.toml keeps it out, this test keeps watch."""
    e = _Emitter()
    got = []
    e.with_object.connect(lambda value: got.append(1))
    e.with_text.connect(lambda a, b: got.append(2))

    def counts():
        return sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)

    before = counts()
    for _ in range(50):
        e.plain.emit()
        e.with_object.emit(None)
        e.with_text.emit("a", "b")
    after = counts()
    assert len(got) == 100
    assert [a - b for a, b in zip(after, before, strict=True)] == [0, 0, 0], (before, after)
