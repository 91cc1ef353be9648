"""The web client's build checks: the generated API types match the document, and the
JavaScript of the first page load stays within its budget (100 KB gzipped)."""
import os
import subprocess

from tests.web.conftest import WEB


def test_generated_schema_is_current(web_build, tmp_path):
    out = tmp_path / "schema.d.ts"
    subprocess.run([os.path.join(WEB, "node_modules", ".bin", "openapi-typescript"), "openapi.json",
                    "-o", str(out)], cwd=WEB, check=True, capture_output=True)
    with open(os.path.join(WEB, "src", "api", "schema.d.ts")) as fh:
        assert fh.read() == out.read_text(), (
            "web/src/api/schema.d.ts is out of date: run `npm run openapi` in web/ and commit it")


def test_initial_javascript_is_at_most_100_kb_gzipped(web_build):
    proc = subprocess.run(["node", "scripts/budget.mjs"], cwd=WEB, capture_output=True, text=True)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "initial JavaScript:" in proc.stdout
