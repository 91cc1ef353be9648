"""Loads config/imageboard.yaml with `${VAR:default}` environment overrides, checked
against the typed Settings (imageboard/settings.py) before anything uses it.

The same file is read by `nameko run --config`, so we parse it exactly as nameko does.
"""
import os

from imageboard import PROJECT_ROOT
from imageboard.settings import check, config_path, read_file, settings_of  # noqa: F401


def load_config(path=None):
    """The configuration as the plain dict nameko and our code take, every key present and
    of its declared type; ConfigError (naming key, file, variable) if it is not usable."""
    path = path or config_path()
    return check(read_file(path), path).model_dump()


def database_name(config, service):
    return f"{config['DB_PREFIX']}_{service}"


def database_url(config, service):
    return f"{config['POSTGRES_URL'].rstrip('/')}/{database_name(config, service)}"


def project_path(path):
    """Relative paths in config are relative to the project root, not the cwd."""
    return path if os.path.isabs(path) else os.path.join(PROJECT_ROOT, path)


def topic(config, name):
    return f"{settings_of(config).KAFKA_TOPIC_PREFIX}{name}"


def var_dir():
    """Where processes keep logs, pids and runtime state: IMAGEBOARD_VAR or <project>/var."""
    path = os.environ.get("IMAGEBOARD_VAR") or os.path.join(PROJECT_ROOT, "var")
    for sub in ("log", "run"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    return path
