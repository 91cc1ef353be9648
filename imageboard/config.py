"""Loads config/imageboard.yaml with `${VAR:default}` environment overrides.

The same file is read by `nameko run --config`, so we parse it exactly as nameko does.
"""
import os

import yaml
from nameko.cli.main import setup_yaml_parser

from imageboard import PROJECT_ROOT

DEFAULT_CONFIG_PATH = os.path.join(PROJECT_ROOT, "config", "imageboard.yaml")
_parser_ready = False


def config_path():
    return os.environ.get("IMAGEBOARD_CONFIG", DEFAULT_CONFIG_PATH)


def load_config(path=None):
    global _parser_ready
    if not _parser_ready:
        setup_yaml_parser()
        _parser_ready = True
    with open(path or config_path()) as fh:
        return yaml.safe_load(fh)


def database_name(config, service):
    return f"{config['DB_PREFIX']}_{service}"


def database_url(config, service):
    return f"{config['POSTGRES_URL'].rstrip('/')}/{database_name(config, service)}"


def project_path(path):
    """Relative paths in config are relative to the project root, not the cwd."""
    return path if os.path.isabs(path) else os.path.join(PROJECT_ROOT, path)


def topic(config, name):
    return f"{config.get('KAFKA_TOPIC_PREFIX') or ''}{name}"


def var_dir():
    """Where processes keep logs, pids and runtime state: IMAGEBOARD_VAR or <project>/var."""
    path = os.environ.get("IMAGEBOARD_VAR") or os.path.join(PROJECT_ROOT, "var")
    for sub in ("log", "run"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    return path
