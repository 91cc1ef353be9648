"""The OpenAPI document against the gateway's router and the OpenAPI 3.1 meta-schema.

Responses of the running system are validated against it in tests/e2e/test_openapi.py.
"""
import re

import falcon.testing
import jsonschema
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31

from gateway.app import create_app
from gateway.openapi import openapi_document
from tests.openapi_check import APP_CONFIG, documented_operations, routed_operations


def test_every_route_is_documented():
    undocumented = routed_operations() - set(documented_operations())
    assert not undocumented, f"routes missing from gateway/openapi.py: {sorted(undocumented)}"


def test_every_documented_operation_is_routed():
    phantom = set(documented_operations()) - routed_operations()
    assert not phantom, f"documented but not routed: {sorted(phantom)}"


def test_document_is_valid_openapi_3_1():
    jsonschema.Draft202012Validator(OPENAPI_31).validate(openapi_document())


def test_every_component_schema_is_valid_json_schema():
    for name, schema in openapi_document()["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_operation_documents_the_error_body_and_auth():
    doc = openapi_document()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert "401" in op["responses"], (method, path)
            for status, response in op["responses"].items():
                if int(status) >= 400 and (method, path) != ("get", "/ready"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
            for param in re.findall(r"\{(\w+)\}", path):
                assert any(p["name"] == param and p["in"] == "path"
                           for p in op.get("parameters", [])), (method, path, param)


def test_list_endpoints_document_pagination_headers():
    paths = openapi_document()["paths"]
    for path in ("/api/comments/", "/api/notifications/"):
        headers = paths[path]["get"]["responses"]["200"]["headers"]
        assert {"X-Total-Count", "Link"} <= set(headers)


@pytest.fixture
def client():
    return falcon.testing.TestClient(create_app(APP_CONFIG, rpc=object()))


@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/openapi.json/"])
def test_document_is_served(client, path):
    resp = client.simulate_get(path)
    assert resp.status_code == 200
    assert resp.json == openapi_document()


def test_docs_page_lists_every_operation(client):
    resp = client.simulate_get("/api/docs/", params={"format": "plain"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    page = resp.text
    assert "<script" not in page and "http://" not in page and "https://" not in page
    for path, item in openapi_document()["paths"].items():
        for op in item.values():
            assert f'id="op-{op["operationId"]}"' in page
        assert f"<code>{path}</code>" in page
    assert 'id="schema-PostDetail"' in page
