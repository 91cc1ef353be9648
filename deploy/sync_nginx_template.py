"""Rewrites deploy/base/nginx-templates.yaml from nginx/templates/default.conf.template
(kustomize cannot read files outside deploy/; tests/unit/test_k8s_manifests.py fails
while the copy differs).    python3 deploy/sync_nginx_template.py"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = """# A copy of nginx/templates/default.conf.template, the file compose mounts: the official
# image renders /etc/nginx/templates/*.template with its environment at start.
# tests/unit/test_k8s_manifests.py fails when the copy differs from the file; refresh it
# with `python3 deploy/sync_nginx_template.py`.
apiVersion: v1
kind: ConfigMap
metadata:
  name: nginx-templates
  labels:
    app.kubernetes.io/name: nginx
    app.kubernetes.io/part-of: imageboard
data:
  default.conf.template: |
"""

with open(os.path.join(ROOT, "nginx", "templates", "default.conf.template")) as fh:
    lines = fh.read().splitlines(True)
with open(os.path.join(ROOT, "deploy", "base", "nginx-templates.yaml"), "w") as fh:
    fh.write(HEADER + "".join("    " + line if line.strip() else "\n" for line in lines))
