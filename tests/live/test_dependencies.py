"""The asyncua the client needs: the declared floor is a release that has what the client imports, and the
client keeps to asyncua's public interface."""

from __future__ import annotations

import ast
import re
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: asyncua 2.0 introduced the subscription iterator (DataChangeEvent, StatusChangeEvent, OverflowPolicy,
#: create_subscription(queue_maxsize=, overflow=)); a 1.1.x install fails at import.
ITERATOR_RELEASE = (2, 0)


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _floor() -> tuple[int, ...]:
    match = re.search(r'"asyncua\s*>=\s*([0-9][0-9.]*)', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert match, "asyncua has no lower bound in pyproject.toml"
    return _release(match.group(1))


def test_the_asyncua_floor_has_the_subscription_iterator_and_the_installed_one_meets_it():
    assert _floor() >= ITERATOR_RELEASE
    assert _release(version("asyncua")) >= _floor()


def test_the_live_client_uses_no_private_asyncua_member():
    """No ``sub._subscribe`` and the like: private members change without notice between releases."""
    private = []
    for path in (ROOT / "app" / "live").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id in ("sub", "subscription", "client", "server", "ua"):
                    private.append(f"{path.name}:{node.lineno} {owner.id}.{node.attr}")
    assert not private, "private asyncua members used: " + ", ".join(private)
