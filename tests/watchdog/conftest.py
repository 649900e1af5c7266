"""The watchdog's tests share the OPC UA fixtures of tests/live."""

from tests.live.conftest import port  # noqa: F401  (a fixture)
