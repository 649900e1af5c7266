"""The JSON Schema of the factory format. ``python -m app.model.schema OUT.json`` writes it."""

from __future__ import annotations

import json
import sys

from app.model.factory import Factory


def factory_schema_text() -> str:
    """The JSON Schema (draft 2020-12) of a factory file, as stable text."""
    schema = Factory.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "floortwin factory file"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "-"
    text = factory_schema_text()
    if out == "-":
        sys.stdout.write(text)
    else:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
