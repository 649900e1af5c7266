"""What the plant simulator needs to look like a standard OPC UA server to other people's clients.

UaExpert, node-opcua and the OPC Foundation's tools expect what Part 3, 4, 5 and 8 of the specification
say: analog values as ``AnalogItemType`` with the standard ``0:EngineeringUnits`` and ``0:EURange``
properties, a ``MinimumSamplingInterval`` that tells how often a value can change, filled-in
``ServerCapabilities`` and ``BuildInfo``, ``BadNotWritable`` for read-only variables,
``BadHistoryOperationUnsupported`` when there is no history, a working ``GetMonitoredItems`` method, and
certificates whose subject alternative names list IP addresses as IP addresses. asyncua's server leaves
these to the application; this module supplies them.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
from collections.abc import Callable
from pathlib import Path

from asyncua import Server, ua
from asyncua.common.callback import CallbackType
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.history import HistoryManager

from app.ua.values import node_id, status_code

log = logging.getLogger("floortwin.plantsim")

#: OPC UA profile the simulator implements (sessions, subscriptions, read, browse, security): Part 7's
#: Micro Embedded Device server profile.
SERVER_PROFILE = "http://opcfoundation.org/UA-Profile/Server/MicroEmbeddedDevice2017"
#: Who writes when asyncua is not told (its own default: the server itself).
_SERVER_USER = User(role=UserRole.Admin)


async def add_variable(
    server: Server,
    parent: ua.NodeId,
    nodeid: ua.NodeId,
    name: ua.QualifiedName,
    value: ua.Variant,
    description: str,
    analog: bool,
    minimum_sampling_ms: float,
    writable: bool = False,
) -> ua.NodeId:
    """A data variable under ``parent``: an ``AnalogItemType`` when ``analog``, else a
    ``BaseDataVariableType``, with its description and the fastest rate its value can change at;
    read-only unless ``writable`` (a setpoint: who may write it is the server's decision per login)."""
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = nodeid
    item.BrowseName = name
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = node_id(ua.ObjectIds.HasComponent)
    item.TypeDefinition = node_id(ua.ObjectIds.AnalogItemType if analog else ua.ObjectIds.BaseDataVariableType)
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name.Name)
    attrs.Description = ua.LocalizedText(description)
    attrs.DataType = node_id(value.VariantType.value)  # a built-in type's node id is its variant type's number
    attrs.Value = value
    attrs.ValueRank = ua.ValueRank.Scalar
    # a scalar has no dimensions: the null array (None), which asyncua's list annotation does not admit
    attrs.ArrayDimensions = None  # type: ignore[assignment]
    attrs.WriteMask = 0
    attrs.UserWriteMask = 0
    attrs.Historizing = False
    access = ua.AccessLevel.CurrentRead.mask | (ua.AccessLevel.CurrentWrite.mask if writable else 0)
    attrs.AccessLevel = access
    attrs.UserAccessLevel = access
    attrs.MinimumSamplingInterval = float(minimum_sampling_ms)
    item.NodeAttributes = attrs
    result = (await server.iserver.isession.add_nodes([item]))[0]
    result.StatusCode.check()
    return result.AddedNodeId


async def add_property(
    server: Server, parent: ua.NodeId, nodeid: ua.NodeId, name: str, value: ua.Variant, data_type: int
) -> None:
    """A standard property (browse name in namespace 0, e.g. ``0:EngineeringUnits``) of ``parent``."""
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = nodeid
    item.BrowseName = ua.QualifiedName(name, 0)
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = node_id(ua.ObjectIds.HasProperty)
    item.TypeDefinition = node_id(ua.ObjectIds.PropertyType)
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.DataType = node_id(data_type)
    attrs.Value = value
    attrs.ValueRank = ua.ValueRank.Scalar
    attrs.AccessLevel = ua.AccessLevel.CurrentRead.mask
    attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
    item.NodeAttributes = attrs
    result = (await server.iserver.isession.add_nodes([item]))[0]
    result.StatusCode.check()


async def describe_server(server: Server, product_uri: str, version: str, minimum_sampling_ms: float) -> None:
    """BuildInfo naming floortwin's plant simulator, and ServerCapabilities filled in truthfully."""
    await server.set_build_info(
        product_uri, "floortwin", "floortwin plant simulator", version, version, datetime.datetime.now(datetime.timezone.utc)
    )
    caps = {
        ua.ObjectIds.Server_ServerCapabilities_ServerProfileArray: ua.Variant([SERVER_PROFILE], ua.VariantType.String),
        ua.ObjectIds.Server_ServerCapabilities_LocaleIdArray: ua.Variant(["en"], ua.VariantType.String),
        ua.ObjectIds.Server_ServerCapabilities_MinSupportedSampleRate: ua.Variant(
            float(minimum_sampling_ms), ua.VariantType.Double
        ),
        # 0: no limit of its own (the transport's message size applies)
        ua.ObjectIds.Server_ServerCapabilities_MaxBrowseContinuationPoints: ua.Variant(0, ua.VariantType.UInt16),
        ua.ObjectIds.Server_ServerCapabilities_MaxQueryContinuationPoints: ua.Variant(0, ua.VariantType.UInt16),
        ua.ObjectIds.Server_ServerCapabilities_MaxHistoryContinuationPoints: ua.Variant(0, ua.VariantType.UInt16),
        ua.ObjectIds.Server_ServerCapabilities_MaxArrayLength: ua.Variant(0, ua.VariantType.UInt32),
        ua.ObjectIds.Server_ServerCapabilities_MaxStringLength: ua.Variant(0, ua.VariantType.UInt32),
        ua.ObjectIds.Server_ServerCapabilities_MaxByteStringLength: ua.Variant(0, ua.VariantType.UInt32),
    }
    for number, value in caps.items():
        await server.get_node(node_id(number)).write_value(value)


def report_not_writable(server: Server) -> None:
    """A write to a read-only variable answers ``BadNotWritable`` (its AccessLevel forbids writing), not
    ``BadUserAccessDenied`` (which says the user lacks a right another user might have)."""
    space = server.iserver.aspace

    def after_write(event, _dispatcher) -> None:
        results = event.response_params
        for k, (item, status) in enumerate(zip(event.request_params.NodesToWrite, results, strict=False)):
            if status.value != ua.StatusCodes.BadUserAccessDenied or item.AttributeId != ua.AttributeIds.Value:
                continue
            level = space.read_attribute_value(item.NodeId, ua.AttributeIds.AccessLevel)
            known = level.StatusCode is not None and level.StatusCode.is_good() and level.Value is not None
            if known and level.Value is not None and not ua.ua_binary.test_bit(level.Value.Value, ua.AccessLevel.CurrentWrite):
                results[k] = status_code(ua.StatusCodes.BadNotWritable)

    server.subscribe_server_callback(CallbackType.PostWrite, after_write)


def guard_writes(
    server: Server,
    check: Callable[[ua.WriteValue, User], int | None],
    applied: Callable[[ua.WriteValue, User], None],
) -> None:
    """Clients' writes pass ``check`` first: a status code it returns (``BadUserAccessDenied``,
    ``BadOutOfRange``…) answers that item and nothing is written; the items it lets pass are written as
    asyncua does (AccessLevel and type checks), and ``applied`` hears of each one that succeeded. The
    server's own writes (the simulation's updates) do not pass here."""
    service = server.iserver.attribute_service
    write = service.write

    async def guarded(params: ua.WriteParameters, user: User = _SERVER_USER) -> list[ua.StatusCode]:
        items = list(params.NodesToWrite)
        results: list[ua.StatusCode | None] = [None] * len(items)
        passed = []
        for k, item in enumerate(items):
            refused = check(item, user)
            if refused is None:
                passed.append(k)
            else:
                results[k] = status_code(refused)
        if passed:
            done = await write(ua.WriteParameters(NodesToWrite=[items[k] for k in passed]), user=user)
            for k, status in zip(passed, done, strict=True):
                results[k] = status
                if status.is_good():
                    applied(items[k], user)
        return [r if r is not None else status_code(ua.StatusCodes.BadInternalError) for r in results]

    service.write = guarded  # type: ignore[method-assign]


def user_access_by_login(server: Server, nodes: set[ua.NodeId], may_write: Callable[[User], bool]) -> None:
    """The ``UserAccessLevel`` of ``nodes`` as the session's user has it (Part 3, 5.6.2): read and write
    for a login that may write, read only for the others — so a client can tell before it writes."""
    read_only = ua.DataValue(ua.Variant(ua.AccessLevel.CurrentRead.mask, ua.VariantType.Byte))

    def after_read(event, _dispatcher) -> None:
        results = event.response_params
        if may_write(event.user):
            return
        for k, item in enumerate(event.request_params.NodesToRead):
            if item.AttributeId == ua.AttributeIds.UserAccessLevel and item.NodeId in nodes:
                results[k] = read_only

    server.subscribe_server_callback(CallbackType.PostRead, after_read)


class NoHistory(HistoryManager):
    """The simulator keeps no history: every HistoryRead answers ``BadHistoryOperationUnsupported`` rather
    than an empty Good result that reads as "nothing happened"."""

    async def read_history(self, params: ua.HistoryReadParameters) -> list[ua.HistoryReadResult]:
        return [
            ua.HistoryReadResult(StatusCode=status_code(ua.StatusCodes.BadHistoryOperationUnsupported))
            for _ in params.NodesToRead
        ]


def serve_without_history(server: Server) -> None:
    server.iserver.history_manager = NoHistory(server.iserver)


def link_get_monitored_items(server: Server) -> None:
    """``Server.GetMonitoredItems(subscriptionId)`` returns the server and client handles of a
    subscription's monitored items (Part 5, 9.1), as clients use to recover after a reconnect."""
    subscriptions = server.iserver.subscription_service.subscriptions

    def get_monitored_items(_parent, subscription_id: ua.Variant):
        sub = subscriptions.get(int(subscription_id.Value))
        if sub is None:
            return status_code(ua.StatusCodes.BadSubscriptionIdInvalid)
        items = list(sub.monitored_item_srv._monitored_items.items())  # asyncua keeps no public list
        servers = [int(mid) for mid, _data in items]
        clients = [int(data.client_handle or 0) for _mid, data in items]
        return [ua.Variant(servers, ua.VariantType.UInt32), ua.Variant(clients, ua.VariantType.UInt32)]

    server.link_method(server.get_node(node_id(ua.ObjectIds.Server_GetMonitoredItems)), get_monitored_items)


def make_certificate(key_file: Path, cert_file: Path, app_uri: str, host: str, server: bool, common_name: str) -> None:
    """A self-signed application certificate (DER) and its key (PEM), valid for a year, whose subject
    alternative names are the application URI and ``host`` — as an IP address when it is one (clients
    compare the endpoint's address with IP entries), else as a DNS name — plus ``localhost`` for loopback."""
    from asyncua.crypto.cert_gen import dump_private_key_as_pem, generate_private_key, generate_self_signed_app_certificate
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(app_uri)]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        names.append(x509.DNSName(host))
    else:
        names.append(x509.IPAddress(address))
        if address.is_loopback:
            names.append(x509.DNSName("localhost"))
    key = generate_private_key()
    key_file.write_bytes(dump_private_key_as_pem(key))
    use = [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
    subject = {"countryName": "DE", "organizationName": "floortwin", "commonName": common_name}
    cert = generate_self_signed_app_certificate(key, app_uri, subject, names, extended=use, days=365)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.DER))


def certificate_fits(cert_file: Path, app_uri: str, host: str) -> bool:
    """True when an existing certificate names ``app_uri`` and ``host`` (IP entries for addresses) and is
    valid for at least another day."""
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(cert_file.read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    if app_uri not in sans.get_values_for_type(x509.UniformResourceIdentifier):
        return False
    try:
        host_ok = ipaddress.ip_address(host) in sans.get_values_for_type(x509.IPAddress)
    except ValueError:
        host_ok = host in sans.get_values_for_type(x509.DNSName)
    valid_until = cert.not_valid_after_utc
    return host_ok and valid_until - datetime.datetime.now(datetime.timezone.utc) > datetime.timedelta(days=1)
