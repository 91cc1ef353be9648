"""GET /api/openapi.json and GET /api/docs/: the API document and a readable page of it.

/api/docs/ is Swagger UI (npm swagger-ui-dist, copied into web/dist/api-docs/ by the web
client's build and served from here at /api/docs/assets/: no CDN, it works where only the
gateway is reachable), with "Authorize" for the Bearer token and try-it on every operation.
Where the web client is not built, and at /api/docs/?format=plain, the page is plain HTML
rendered here without JavaScript.
"""
import html
import json
import os
import re

from contracts.errors import BadRequest, NotFound
from gateway.openapi import openapi_document
from imageboard import PROJECT_ROOT

SWAGGER_DIR = os.path.join(PROJECT_ROOT, "web", "dist", "api-docs")
# name -> content type: only these files are served (no path from the request reaches the disk).
ASSETS = {"swagger-ui-bundle.js": "application/javascript; charset=utf-8",
          "swagger-ui.css": "text/css; charset=utf-8",
          "LICENSE": "text/plain; charset=utf-8"}
# Swagger UI starts here (a file, not an inline script). A token the web client holds (it
# keeps it under ib.token) authorizes try-it at once; "Authorize" takes any other.
INIT_JS = """window.addEventListener("load", function () {
  var ui = SwaggerUIBundle({
    url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
    persistAuthorization: true, displayRequestDuration: true, docExpansion: "list",
    onComplete: function () {
      try {
        var token = localStorage.getItem("ib.token");
        if (token) ui.preauthorizeApiKey("bearerAuth", token);
      } catch (e) { /* storage unavailable: use Authorize */ }
    }
  });
  window.ui = ui;
});
"""
SWAGGER_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Imageboard API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
<style>body{margin:0} .plain-link{font:14px system-ui,sans-serif;padding:.5em 1em}</style>
</head><body>
<p class="plain-link"><a href="/">Imageboard</a> &middot; <a href="/api/docs/?format=plain">plain HTML version</a>
&middot; <a href="/api/openapi.json">openapi.json</a></p>
<noscript><p>This page needs JavaScript; the <a href="/api/docs/?format=plain">plain version</a> does not.</p></noscript>
<div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/init.js"></script>
</body></html>
"""
# The padlock of authenticated operations, drawn (an emoji needs a font the machine may lack).
LOCK_SVG = ('<svg class="lock" role="img" aria-label="needs a token" width="12" height="14" '
            'viewBox="0 0 12 14"><path fill="currentColor" d="M3 6V4a3 3 0 0 1 6 0v2h1a1 1 0 0 1 '
            '1 1v6a1 1 0 0 1-1 1H2a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1zm1.5 0h3V4a1.5 1.5 0 0 0-3 0z"/>'
            '</svg>')

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
.lock{color:#9a6700;vertical-align:-1px}
"""


def _e(text):
    return html.escape(str(text))


def _md(text):
    """A description's inline markdown (`code`) as HTML; everything else escaped."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(text))


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
        f"<td>{_md(p.get('description', ''))}</td></tr>" for p in params)
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
        rows.append(f"<tr><td>{_e(status)}</td><td>{_md(response['description'])}</td>"
                    f"<td>{schema}</td><td>{headers}</td></tr>")
    return ("<table><tr><th>status</th><th>meaning</th><th>body</th><th>headers</th></tr>"
            + "".join(rows) + "</table>")


def render_html(doc):
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(doc['info']['title'])}"
           f"</title><style>{STYLE}</style></head><body>",
           f"<h1>{_e(doc['info']['title'])} <small>{_e(doc['info']['version'])}</small></h1>",
           f"<p>{_md(doc['info']['description'])}</p>",
           '<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> '
           f'(OpenAPI 3.1). {LOCK_SVG} = needs '
           "<code>Authorization: Bearer &lt;token&gt;</code>.</p>"]
    for tag in (t["name"] for t in doc["tags"]):
        ops = [(path, method, op) for path, item in doc["paths"].items()
               for method, op in item.items() if method in METHODS and tag in op["tags"]]
        if not ops:
            continue
        out.append(f"<h2>{_e(tag)}</h2>")
        for path, method, op in ops:
            lock = f" {LOCK_SVG}" if op.get("security") else ""
            out.append(
                f'<div class="op" id="op-{_e(op["operationId"])}"><span class="m {method}">'
                f"{method}</span> <code>{_e(path)}</code>{lock} &mdash; {_md(op['summary'])}"
                + (f"<p>{_md(op['description'])}</p>" if op.get("description") else "")
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


def swagger_available():
    return os.path.isfile(os.path.join(SWAGGER_DIR, "swagger-ui-bundle.js"))


class DocsResource:
    def __init__(self):
        self.page = render_html(openapi_document())

    def on_get(self, req, resp):
        fmt = req.get_param("format")
        if fmt not in (None, "", "plain", "swagger"):
            raise BadRequest("format must be plain or swagger", code="invalid_format")
        resp.content_type = "text/html; charset=utf-8"
        resp.text = self.page if fmt == "plain" or not swagger_available() else SWAGGER_PAGE


class DocsAssetResource:
    """Swagger UI's files (ASSETS) and its start script; anything else 404."""

    def on_get(self, req, resp, name):
        if name == "init.js":
            resp.content_type = "application/javascript; charset=utf-8"
            resp.text = INIT_JS
            return
        if name not in ASSETS or not os.path.isfile(os.path.join(SWAGGER_DIR, name)):
            raise NotFound("No such file", code="not_found")
        resp.content_type = ASSETS[name]
        resp.set_header("Cache-Control", "public, max-age=3600")
        with open(os.path.join(SWAGGER_DIR, name), "rb") as fh:
            resp.data = fh.read()
