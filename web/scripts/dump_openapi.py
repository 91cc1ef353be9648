"""Writes the gateway's OpenAPI document (gateway/openapi.py) to web/openapi.json, no server
needed. Run by `npm run openapi` (which then generates src/api/schema.d.ts from it)."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from gateway.openapi import openapi_document  # noqa: E402


def document_text():
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "web", "openapi.json")
    with open(out, "w") as fh:
        fh.write(document_text())
