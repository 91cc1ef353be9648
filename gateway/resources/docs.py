"""GET /api/openapi.json and GET /api/docs/: the API document and a readable page of it.

The page is rendered here as plain HTML (no JavaScript, no CDN): it must work where only
the gateway is reachable.
"""
import html
import json

from gateway.openapi import openapi_document

METHODS = ("get", "post", "put", "patch", "delete")
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2em}
.op{border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.6em 1em}
.m{display:inline-block;min-width:4.5em;font-weight:bold;text-transform:uppercase}
.get{color:#1a7f37}.post{color:#0550ae}.patch{color:#8250df}.delete{color:#cf222e}
code,pre{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#f6f8fa;padding:.6em;overflow:auto}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}
.lock{color:#9a6700}
"""


def _e(text):
    return html.escape(str(text))


def _schema_html(schema):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
    return f"<code>{_e(json.dumps(schema))}</code>"


def _params_html(params):
    if not params:
        return ""
    rows = "".join(
        f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td>"
        f"<td>{'yes' if p.get('required') else ''}</td><td>{_schema_html(p['schema'])}</td>"
        f"<td>{_e(p.get('description', ''))}</td></tr>" for p in params)
    return ("<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th>"
            f"<th>description</th></tr>{rows}</table>")


def _body_html(body):
    if not body:
        return ""
    parts = [f"<code>{_e(mt)}</code> {_schema_html(c['schema'])}"
             for mt, c in body["content"].items()]
    return "<p>Request body: " + "; ".join(parts) + "</p>"


def _responses_html(responses):
    rows = []
    for status, response in responses.items():
        content = response.get("content", {})
        schema = " ".join(_schema_html(c["schema"]) for c in content.values())
        headers = ", ".join(f"<code>{_e(h)}</code>" for h in response.get("headers", {})
                            if h != "X-Request-ID")
        rows.append(f"<tr><td>{_e(status)}</td><td>{_e(response['description'])}</td>"
                    f"<td>{schema}</td><td>{headers}</td></tr>")
    return ("<table><tr><th>status</th><th>meaning</th><th>body</th><th>headers</th></tr>"
            + "".join(rows) + "</table>")


def render_html(doc):
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(doc['info']['title'])}"
           f"</title><style>{STYLE}</style></head><body>",
           f"<h1>{_e(doc['info']['title'])} <small>{_e(doc['info']['version'])}</small></h1>",
           f"<p>{_e(doc['info']['description'])}</p>",
           '<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> '
           '(OpenAPI 3.1). <span class="lock">&#128274;</span> = needs '
           "<code>Authorization: Bearer &lt;token&gt;</code>.</p>"]
    for tag in (t["name"] for t in doc["tags"]):
        ops = [(path, method, op) for path, item in doc["paths"].items()
               for method, op in item.items() if method in METHODS and tag in op["tags"]]
        if not ops:
            continue
        out.append(f"<h2>{_e(tag)}</h2>")
        for path, method, op in ops:
            lock = ' <span class="lock">&#128274;</span>' if op.get("security") else ""
            out.append(
                f'<div class="op" id="op-{_e(op["operationId"])}"><span class="m {method}">'
                f"{method}</span> <code>{_e(path)}</code>{lock} &mdash; {_e(op['summary'])}"
                + (f"<p>{_e(op['description'])}</p>" if op.get("description") else "")
                + _params_html(op.get("parameters")) + _body_html(op.get("requestBody"))
                + _responses_html(op["responses"]) + "</div>")
    out.append("<h2>Schemas</h2>")
    for name, schema in doc["components"]["schemas"].items():
        out.append(f'<h3 id="schema-{_e(name)}">{_e(name)}</h3>'
                   f"<pre>{_e(json.dumps(schema, indent=2))}</pre>")
    out.append("</body></html>")
    return "".join(out)


class OpenApiResource:
    def __init__(self):
        self.document = openapi_document()

    def on_get(self, req, resp):
        resp.media = self.document


class DocsResource:
    def __init__(self):
        self.page = render_html(openapi_document())

    def on_get(self, req, resp):
        resp.content_type = "text/html; charset=utf-8"
        resp.text = self.page
