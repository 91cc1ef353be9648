"""deploy/ (Kubernetes, kustomize) checked offline: every file listed, every rendered
resource valid against the Kubernetes schemas (kubernetes-validate, strict), every
Deployment with probes and resources, the ConfigMap and Secret covering every setting of
config/imageboard.yaml, and images and commands matching imageboard_ops's process list
and docker-compose.yml. Each check is a function returning its problems, run on the real
manifests (no problem) and on a broken copy (the problem named), so none can pass by
checking nothing."""
import copy
import os
import shutil
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml

from imageboard import PROJECT_ROOT
from imageboard.config import load_config
from imageboard.settings import env_names, settings_of
from imageboard_ops import processes
from tests.k8s_render import load_documents, render

DEPLOY = os.path.join(PROJECT_ROOT, "deploy")
BASE = os.path.join(DEPLOY, "base")
OVERLAYS = [os.path.join(DEPLOY, "overlays", name)
            for name in sorted(os.listdir(os.path.join(DEPLOY, "overlays")))]
KUSTOMIZATIONS = [BASE] + OVERLAYS
# The oldest Kubernetes minor still supported upstream when this was written (and the
# kubectl here, v1.32): manifests valid there are valid on every newer one we tried.
KUBERNETES_VERSIONS = ["1.32.0", "1.35.0"]
IMAGE = "imageboard"
# Deployments that are not one of imageboard_ops's processes: nginx (compose runs it, the
# launcher renders its own).
NOT_LAUNCHED = {"nginx"}
# Environment variables that are not settings of config/imageboard.yaml: read by gunicorn
# itself (FORWARDED_ALLOW_IPS), and the settings feat/stream (STREAM_BIND, SSE_*) and
# feat/limits (REDIS_URL) add, so the manifests are ready when those branches merge.
NOT_SETTINGS = {"FORWARDED_ALLOW_IPS", "REDIS_URL"}
HTTP_PROCESSES = {"gateway", "stream"}


@pytest.fixture(scope="module")
def rendered():
    return {path: render(path) for path in KUSTOMIZATIONS}


@pytest.fixture(scope="module")
def base(rendered):
    return rendered[BASE]


def of_kind(resources, kind):
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def containers(resource):
    return resource["spec"]["template"]["spec"]["containers"]


# ---- checks: each returns a list of problems ----------------------------------------------

def unlisted_files(directory):
    with open(os.path.join(directory, "kustomization.yaml")) as fh:
        spec = yaml.safe_load(fh)
    listed = set(spec.get("resources", [])) | {p["path"] for p in spec.get("patches", [])}
    present = {f for f in os.listdir(directory) if f.endswith((".yaml", ".yml"))}
    present.discard("kustomization.yaml")
    problems = [f"{directory}: {f} is not listed in kustomization.yaml"
                for f in sorted(present - listed)]
    problems += [f"{directory}: {f} is listed but does not exist" for f in sorted(listed)
                 if not os.path.exists(os.path.join(directory, f))]
    return problems


def invalid_resources(resources, version):
    problems = []
    for resource in resources:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{resource['kind']}/{resource['metadata']['name']}: {exc.message}")
    return problems


def unmatched_selectors(resources):
    """Services, PDBs, NetworkPolicies and HPAs that would select or scale nothing."""
    pods = {name: d["spec"]["template"]["metadata"]["labels"]
            for name, d in of_kind(resources, "Deployment").items()}
    problems = []
    for kind in ("Service", "PodDisruptionBudget"):
        for name, r in of_kind(resources, kind).items():
            selector = r["spec"].get("selector")
            if r["spec"].get("type") == "ExternalName":
                continue
            selector = selector.get("matchLabels", selector)
            if not any(selector.items() <= labels.items() for labels in pods.values()):
                problems.append(f"{kind}/{name} selects no Deployment's pods")
    for name, r in of_kind(resources, "NetworkPolicy").items():
        selector = r["spec"]["podSelector"]["matchLabels"]
        if not any(selector.items() <= labels.items() for labels in pods.values()):
            problems.append(f"NetworkPolicy/{name} selects no Deployment's pods")
    for name, r in of_kind(resources, "HorizontalPodAutoscaler").items():
        target = r["spec"]["scaleTargetRef"]["name"]
        if target not in pods:
            problems.append(f"HorizontalPodAutoscaler/{name} scales a missing Deployment {target}")
        elif "replicas" in of_kind(resources, "Deployment")[target]["spec"]:
            problems.append(f"Deployment/{target} sets replicas that its autoscaler owns")
    return problems


def probe_problems(resources):
    problems = []
    for name, deployment in of_kind(resources, "Deployment").items():
        for c in containers(deployment):
            where = f"Deployment/{name} container {c['name']}"
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in c:
                    problems.append(f"{where}: no {probe}")
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in c.get("resources", {}).get(bound, {}):
                        problems.append(f"{where}: no {bound}.{resource}")
            if name in HTTP_PROCESSES:
                for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
                    if c.get(probe, {}).get("httpGet", {}).get("path") != path:
                        problems.append(f"{where}: {probe} is not an HTTP GET of {path}")
    for name, job in of_kind(resources, "Job").items():
        for c in containers(job):
            if not {"cpu", "memory"} <= set(c.get("resources", {}).get("limits", {})):
                problems.append(f"Job/{name} container {c['name']}: no limits")
    return problems


def setting_problems(resources):
    """Every variable config/imageboard.yaml reads is in the ConfigMap or the Secret (once),
    and the two hold nothing that is not a setting."""
    config_map = of_kind(resources, "ConfigMap")["imageboard-config"]["data"]
    secrets = of_kind(resources, "Secret").get("imageboard-secrets", {}).get("stringData", {})
    wanted = set(env_names(os.path.join(PROJECT_ROOT, "config", "imageboard.yaml")).values())
    problems = [f"{n}: in config/imageboard.yaml, in neither the ConfigMap nor the Secret"
                for n in sorted(wanted - set(config_map) - set(secrets))]
    problems += [f"{n}: in both the ConfigMap and the Secret" for n in sorted(set(config_map) & set(secrets))]
    problems += [f"{n}: not a setting of config/imageboard.yaml" for n in
                 sorted((set(config_map) | set(secrets)) - wanted - NOT_SETTINGS)]
    return problems


def launched_command(spec):
    """A ProcessSpec's argv as the image runs it: programs by name from PATH, files
    relative to the working directory /app (the project root)."""
    program = "python" if spec.argv[0] == sys.executable else os.path.basename(spec.argv[0])
    return [program] + [os.path.relpath(a, PROJECT_ROOT) if os.path.isabs(a) else a
                        for a in spec.argv[1:]]


def compose():
    with open(os.path.join(PROJECT_ROOT, "docker-compose.yml")) as fh:
        return yaml.safe_load(fh)


def drift_problems(resources):
    """Images and commands against imageboard_ops's processes (for the SERVICES the
    ConfigMap names) and docker-compose.yml."""
    deployments = of_kind(resources, "Deployment")
    services = yaml.safe_load(of_kind(resources, "ConfigMap")["imageboard-config"]["data"]["SERVICES"])
    specs = processes.app_processes({"SERVICES": services})
    composed = compose()["services"]
    problems = [f"Deployment/{s.name} missing: imageboard_ops starts it" for s in specs
                if s.name not in deployments]
    problems += [f"Deployment/{n}: not a process of imageboard_ops" for n in sorted(deployments)
                 if n not in {s.name for s in specs} | NOT_LAUNCHED]
    for spec in specs:
        if spec.name not in deployments:
            continue
        c = containers(deployments[spec.name])[0]
        if c.get("command") != launched_command(spec):
            problems.append(f"Deployment/{spec.name}: command {c.get('command')} is not "
                            f"imageboard_ops's {launched_command(spec)}")
        if spec.name in composed and composed[spec.name]["command"] != c.get("command"):
            problems.append(f"Deployment/{spec.name}: command differs from docker-compose.yml's")
    for name, r in list(deployments.items()) + list(of_kind(resources, "Job").items()):
        for c in containers(r):
            want = composed["nginx"]["image"] if name == "nginx" else f"{IMAGE}:latest"
            if c["image"] != want:
                problems.append(f"{r['kind']}/{name}: image {c['image']}, not {want}")
    migrate = of_kind(resources, "Job").get("migrate")
    if migrate is None or containers(migrate)[0]["command"] != composed["migrate"]["command"]:
        problems.append("Job/migrate: missing, or not docker-compose.yml's migrate command")
    return problems


def scrape_problems(resources):
    """Prometheus finds every Python process: annotations naming a port the pod has."""
    problems = []
    for name, d in of_kind(resources, "Deployment").items():
        if name == "nginx":
            continue  # no exporter; its access log is the record
        notes = d["spec"]["template"]["metadata"].get("annotations", {})
        ports = {p["containerPort"] for c in containers(d) for p in c.get("ports", [])}
        if notes.get("prometheus.io/scrape") != "true" or int(notes.get("prometheus.io/port", 0)) not in ports:
            problems.append(f"Deployment/{name}: no Prometheus scrape annotations on a port it has")
    return problems


# ---- the real manifests -----------------------------------------------------------------

@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=os.path.basename)
def test_every_file_is_listed_and_exists(directory):
    assert unlisted_files(directory) == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=os.path.basename)
def test_rendered_resources_are_valid(rendered, directory, version):
    assert len(rendered[directory]) >= 30
    assert invalid_resources(rendered[directory], version) == []


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=os.path.basename)
def test_selectors_and_autoscalers_match(rendered, directory):
    assert unmatched_selectors(rendered[directory]) == []


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=os.path.basename)
def test_deployments_have_probes_and_resources(rendered, directory):
    assert probe_problems(rendered[directory]) == []


def test_configmap_and_secret_cover_config(base):
    assert setting_problems(base) == []


def test_the_configmap_and_secret_pass_the_settings_checks(base, monkeypatch):
    """What a pod's environment gives config/imageboard.yaml is a valid configuration (the
    types of imageboard/settings.py), with the values the manifests rely on."""
    for name, value in {**of_kind(base, "ConfigMap")["imageboard-config"]["data"],
                        **of_kind(base, "Secret")["imageboard-secrets"]["stringData"]}.items():
        monkeypatch.setenv(name, value)
    config = load_config()
    assert settings_of(config).KAFKA_TOPIC_PREFIX == ""
    assert (config["GATEWAY_BIND"], config["METRICS_PORT"], config["MEDIA_ROOT"]) == \
        ("0.0.0.0:8000", 9100, "/data/media")
    assert config["SERVICES"] == ["users", "posts", "comments", "notifications", "analytics",
                                 "moderation"]

    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "")  # an empty ConfigMap value is an empty prefix too
    assert settings_of(load_config()).KAFKA_TOPIC_PREFIX == ""


def test_images_and_commands_match_imageboard_ops_and_compose(base):
    assert drift_problems(base) == []


def test_every_python_process_is_scraped(base):
    assert scrape_problems(base) == []


def test_topology(base):
    deployments = of_kind(base, "Deployment")
    assert set(deployments) == {"users", "posts", "comments", "notifications", "analytics",
                                "moderation", "analytics-pipeline", "gateway", "stream", "nginx"}
    assert {r["spec"]["scaleTargetRef"]["name"] for r in of_kind(base, "HorizontalPodAutoscaler").values()} \
        == {"gateway", "posts"}
    assert set(of_kind(base, "PodDisruptionBudget")) == set(deployments)
    external = {n for n, s in of_kind(base, "Service").items() if s["spec"].get("type") == "ExternalName"}
    assert external == {"postgres", "rabbitmq", "kafka", "clickhouse", "redis"}


def test_nginx_template_is_the_composed_one(base):
    with open(os.path.join(PROJECT_ROOT, "nginx", "templates", "default.conf.template")) as fh:
        assert of_kind(base, "ConfigMap")["nginx-templates"]["data"]["default.conf.template"] == fh.read()


def test_production_ships_no_dev_placeholder(rendered):
    for overlay in OVERLAYS:
        assert "DEV-PLACEHOLDER" not in yaml.safe_dump_all(rendered[overlay])
        assert "Secret" not in {r["kind"] for r in rendered[overlay]}
    assert "DEV-PLACEHOLDER" in of_kind(rendered[BASE], "Secret")["imageboard-secrets"]["stringData"]["JWT_SECRET"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (for kustomize) not installed")
@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=os.path.basename)
def test_renderer_agrees_with_kustomize(rendered, directory):
    out = subprocess.run(["kubectl", "kustomize", directory], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    by_key = lambda docs: {(r["kind"], r["metadata"]["name"]): r for r in docs}  # noqa: E731
    assert by_key(rendered[directory]) == by_key(yaml.safe_load_all(out))


# ---- broken copies: each check finds what it is for ------------------------------------------

def broken(base, kind, name, change):
    resources = copy.deepcopy(base)
    change(next(r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name))
    return resources


def test_an_invalid_manifest_fails(base):
    def typo(d):
        d["spec"]["replica"] = 2
    def no_selector(d):
        del d["spec"]["selector"]
    def bad_port(d):
        containers(d)[0]["ports"][0]["containerPort"] = "9100"
    for change in (typo, no_selector, bad_port):
        problems = invalid_resources(broken(base, "Deployment", "users", change), KUBERNETES_VERSIONS[0])
        assert len(problems) == 1 and problems[0].startswith("Deployment/users: ")


def test_a_deployment_without_probes_or_resources_fails(base):
    def strip(d):
        del containers(d)[0]["livenessProbe"]
        del containers(d)[0]["resources"]["limits"]["memory"]
    assert probe_problems(broken(base, "Deployment", "comments", strip)) == [
        "Deployment/comments container comments: no livenessProbe",
        "Deployment/comments container comments: no limits.memory"]

    def tcp_readiness(d):
        containers(d)[0]["readinessProbe"] = {"tcpSocket": {"port": "http"}}
    assert probe_problems(broken(base, "Deployment", "gateway", tcp_readiness)) == [
        "Deployment/gateway container gateway: readinessProbe is not an HTTP GET of /ready"]


def test_a_setting_missing_from_the_configmap_fails(base):
    def drop(c):
        del c["data"]["OUTBOX_REPLAY_SECONDS"]
    assert setting_problems(broken(base, "ConfigMap", "imageboard-config", drop)) == [
        "OUTBOX_REPLAY_SECONDS: in config/imageboard.yaml, in neither the ConfigMap nor the Secret"]

    def stale(c):
        c["data"]["GATEWAY_WORKER_CLASS"] = "gevent"
    assert setting_problems(broken(base, "ConfigMap", "imageboard-config", stale)) == [
        "GATEWAY_WORKER_CLASS: not a setting of config/imageboard.yaml"]


def test_image_or_command_drift_fails(base):
    def old_module(d):
        containers(d)[0]["command"][-1] = "services.posts.main"
    problems = drift_problems(broken(base, "Deployment", "posts", old_module))
    assert problems[0].startswith("Deployment/posts: command ") and len(problems) == 2

    def other_image(d):
        containers(d)[0]["image"] = "imageboard-gateway:latest"
    assert drift_problems(broken(base, "Deployment", "gateway", other_image)) == [
        "Deployment/gateway: image imageboard-gateway:latest, not imageboard:latest"]

    resources = [r for r in base if not (r["kind"] == "Deployment" and r["metadata"]["name"] == "notifications")]
    assert drift_problems(resources) == ["Deployment/notifications missing: imageboard_ops starts it"]


def test_an_unlisted_file_fails(tmp_path):
    for name in ("kustomization.yaml", "users.yaml"):
        shutil.copy(os.path.join(BASE, name), tmp_path / name)
    (tmp_path / "forgotten.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    problems = unlisted_files(str(tmp_path))
    assert f"{tmp_path}: forgotten.yaml is not listed in kustomization.yaml" in problems
    assert f"{tmp_path}: secret.yaml is listed but does not exist" in problems


def test_selector_checks_find_orphans(base):
    def relabel(d):
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = "gw"
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = "gw"
    assert unmatched_selectors(broken(base, "Deployment", "gateway", relabel)) == [
        "Service/gateway selects no Deployment's pods",
        "PodDisruptionBudget/gateway selects no Deployment's pods",
        "NetworkPolicy/gateway-ingress selects no Deployment's pods"]
    assert load_documents(os.path.join(BASE, "hpa.yaml"))[0]["spec"]["scaleTargetRef"]["name"] == "gateway"
