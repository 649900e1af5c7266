"""Typed constructors for asyncua values built from plain Python numbers and strings.

asyncua annotates its dataclass fields with marker classes (``ua.Int16``, ``ua.UInt32``, ``ua.String``…)
that plain ``int``/``str`` values satisfy at run time; these helpers wrap the values in those classes so
the type checker sees what asyncua declares, and the code reads as before.
"""

from __future__ import annotations

from asyncua import ua


def node_id(identifier: int | str, namespace: int = 0) -> ua.NodeId:
    """A numeric (``int``) or string (``str``) node id in ``namespace``.

    >>> node_id(2253).to_string(), node_id("Factory", 2).to_string()
    ('i=2253', 'ns=2;s=Factory')
    """
    ident: ua.Int32 | ua.String = ua.Int32(identifier) if isinstance(identifier, int) else ua.String(identifier)
    return ua.NodeId(ident, ua.Int16(namespace))


def status_code(code: int) -> ua.StatusCode:
    """A status code from one of ``ua.StatusCodes``' numbers.

    >>> status_code(ua.StatusCodes.BadNotWritable).is_good()
    False
    """
    return ua.StatusCode(ua.UInt32(code))
