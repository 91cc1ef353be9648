"""web/openapi.json, from which the web client's typed API client (web/src/api/schema.d.ts)
is generated, is the gateway's current document: regenerate both with `npm run openapi` in
web/ when this fails. tests/web/test_client_generated.py checks schema.d.ts against it."""
import os
import runpy

from imageboard import PROJECT_ROOT


def test_web_openapi_json_is_the_gateways_document():
    dump = runpy.run_path(os.path.join(PROJECT_ROOT, "web", "scripts", "dump_openapi.py"))
    with open(os.path.join(PROJECT_ROOT, "web", "openapi.json")) as fh:
        stored = fh.read()
    assert stored == dump["document_text"](), (
        "web/openapi.json is out of date: run `npm run openapi` in web/ and commit the result")
