"""Writable setpoints with roles on the plant simulator process (issue 16, item 6)."""

from __future__ import annotations

import asyncio
import math
import statistics

import pytest
from asyncua import ua

from app.model.io import load_factory
from app.plant.server import NAMESPACE, _user
from tests.conftest import DEMO
from tests.live.conftest import run
from tests.plant.secure import plant_process, secure_client

CNC02 = load_factory(DEMO).machine("CNC-02").sim.cycle.mean_s


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plant")
    with plant_process(tmp, speed=1200.0) as proc:
        yield proc, tmp


def _node(idx: int, ident: str) -> ua.NodeId:
    return ua.NodeId(ident, idx)


async def _write(client, node, value, vtype: ua.VariantType = ua.VariantType.Double) -> ua.StatusCode:
    """The server's status for one write (asyncua raises it as an exception: here it is returned)."""
    result = await client.uaclient.write_attributes(
        [node.nodeid], [ua.DataValue(ua.Variant(value, vtype))], ua.AttributeIds.Value
    )
    return result[0]


def test_user_arguments_take_a_role_and_name_password_alone_reads_only():
    assert _user("engineer:pw:write") == ("engineer", "pw", "write")
    assert _user("operator:pw:read") == ("operator", "pw", "read")
    assert _user("alice:s3cret") == ("alice", "s3cret", "read")
    assert _user("bob:a:b") == ("bob", "a:b", "read")  # a password with a colon, no role


def test_setpoints_are_analog_items_with_unit_range_and_the_factorys_values(plant):
    proc, tmp = plant

    async def scenario():
        client = await secure_client(proc.endpoint, tmp, "operator", "op-pw")
        async with client:
            idx = await client.get_namespace_index(NAMESPACE)
            sp = client.get_node(_node(idx, "Machines/CNC-02/CycleTimeSetpoint"))
            assert (await sp.read_type_definition()) == ua.NodeId(ua.ObjectIds.AnalogItemType)
            assert await sp.read_value() == pytest.approx(CNC02)
            eu = await (await sp.get_child(["0:EngineeringUnits"])).read_value()
            rng = await (await sp.get_child(["0:EURange"])).read_value()
            assert (
                eu.DisplayName.Text == "s"
                and rng.Low == pytest.approx(CNC02 / 4, rel=0.01)
                and rng.High == pytest.approx(4 * CNC02, rel=0.01)
            )
            rate = client.get_node(_node(idx, "Sources/housing/ReleaseRate"))
            assert await rate.read_value() == pytest.approx(3600 / 330)
            assert (await (await rate.get_child(["0:EngineeringUnits"])).read_value()).DisplayName.Text == "1/h"

    run(scenario())


def test_operator_reads_but_may_not_write_and_anonymous_never_writes(plant):
    proc, tmp = plant

    async def scenario():
        for user, password in (("operator", "op-pw"), (None, "")):
            client = await secure_client(proc.endpoint, tmp, user, password)
            async with client:
                idx = await client.get_namespace_index(NAMESPACE)
                sp = client.get_node(_node(idx, "Machines/CNC-02/CycleTimeSetpoint"))
                level = (await sp.read_attribute(ua.AttributeIds.UserAccessLevel)).Value.Value
                assert not level & ua.AccessLevel.CurrentWrite.mask  # the client can tell before it writes
                status = await _write(client, sp, CNC02 / 2)
                assert status.value == ua.StatusCodes.BadUserAccessDenied, (user, status)
                assert await sp.read_value() == pytest.approx(CNC02)

    run(scenario())


def test_engineer_writes_in_range_out_of_range_is_refused_and_measurements_are_not_writable(plant):
    proc, tmp = plant

    async def scenario():
        client = await secure_client(proc.endpoint, tmp, "engineer", "eng-pw")
        async with client:
            idx = await client.get_namespace_index(NAMESPACE)
            sp = client.get_node(_node(idx, "Sources/shaft/ReleaseRate"))
            level = (await sp.read_attribute(ua.AttributeIds.UserAccessLevel)).Value.Value
            assert level & ua.AccessLevel.CurrentWrite.mask
            assert (await _write(client, sp, 100.0)).value == ua.StatusCodes.BadOutOfRange
            assert (await _write(client, sp, float("nan"))).value == ua.StatusCodes.BadOutOfRange
            for bad in (math.inf, -math.inf):
                assert (await _write(client, sp, bad)).value == ua.StatusCodes.BadOutOfRange
            # A wrong type is a type mismatch, not a range error (a new-user trial got Bad_OutOfRange for "9"):
            # OPC UA converts no types on a write (Part 4, Write service: Bad_TypeMismatch).
            V = ua.VariantType
            for value, vtype in (("9", V.String), (9, V.Int32), (True, V.Boolean), (9.0, V.Float)):
                status = await _write(client, sp, value, vtype)
                assert status.value == ua.StatusCodes.BadTypeMismatch, (vtype, status)
            assert await sp.read_value() == pytest.approx(3600 / 380)  # nothing refused was written
            assert (await _write(client, sp, 9.0)).is_good()
            assert await sp.read_value() == 9.0
            cycle = client.get_node(_node(idx, "Machines/CNC-02/CycleTime"))
            assert (await _write(client, cycle, 1.0)).value == ua.StatusCodes.BadNotWritable
            assert (await _write(client, sp, 3600 / 380)).is_good()

    run(scenario())


def test_a_written_cycle_time_setpoint_changes_the_running_machine_at_once(plant):
    proc, tmp = plant

    async def cycles(client, idx, n: int) -> list[float]:
        node = client.get_node(_node(idx, "Machines/CNC-02/CycleTime"))
        seen = [await node.read_value()]
        while len(seen) < n + 2:
            value = await node.read_value()
            if value != seen[-1]:
                seen.append(value)
            await asyncio.sleep(0.02)
        return seen[2:]  # the first is an old cycle, the second may have started before the write

    async def scenario():
        client = await secure_client(proc.endpoint, tmp, "engineer", "eng-pw")
        async with client:
            idx = await client.get_namespace_index(NAMESPACE)
            sp = client.get_node(_node(idx, "Machines/CNC-02/CycleTimeSetpoint"))
            assert (await _write(client, sp, 3 * CNC02)).is_good()
            try:
                slow = await asyncio.wait_for(cycles(client, idx, 8), 40)
            finally:
                assert (await _write(client, sp, CNC02)).is_good()
            # 8 cycles of a CV ≤ 0.3 distribution at three times the mean: their mean is far above the old one
            assert statistics.fmean(slow) > 2 * CNC02

    run(scenario(), timeout=90)
