"""The typed settings (imageboard/settings.py): one check at start that names the key, the
file and the environment variable; defaults stated once, in config/imageboard.yaml."""
import os
import re

import pytest

from imageboard import PROJECT_ROOT
from imageboard.config import load_config
from imageboard.settings import DEFAULT_CONFIG_PATH, ConfigError, Settings, read_file, settings_of

GOOD = open(DEFAULT_CONFIG_PATH).read()


def write(tmp_path, text):
    path = tmp_path / "imageboard.yaml"
    path.write_text(text)
    return str(path)


def test_the_shipped_file_gives_every_setting_with_its_declared_type():
    config = load_config(DEFAULT_CONFIG_PATH)
    assert set(config) == set(Settings.model_fields)
    assert isinstance(config["RPC_TIMEOUT"], float) and isinstance(config["max_workers"], int)


def test_an_unknown_key_stops_the_load_naming_the_key_and_the_file(tmp_path):
    path = write(tmp_path, GOOD + "\nRPC_TIMOUT: 3\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert path in str(exc.value) and "RPC_TIMOUT" in str(exc.value).replace("RPC_TIMEOUT:", "")
    assert "RPC_TIMOUT: unknown setting" in str(exc.value)


def test_a_wrong_type_from_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("MAX_WORKERS", "many")
    with pytest.raises(ConfigError) as exc:
        load_config(DEFAULT_CONFIG_PATH)
    message = str(exc.value)
    assert DEFAULT_CONFIG_PATH in message
    assert re.search(r"max_workers: .*integer.*'many' \(from the environment variable MAX_WORKERS\)",
                     message)


def test_a_wrong_type_in_the_file_is_refused(tmp_path):
    path = write(tmp_path, GOOD.replace("GATEWAY_WORKERS: ${GATEWAY_WORKERS:2}",
                                        "GATEWAY_WORKERS: two"))
    with pytest.raises(ConfigError, match=r"GATEWAY_WORKERS: .*'two'"):
        load_config(path)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, GOOD.replace("LOG_LEVEL: ${LOG_LEVEL:INFO}", "LOG_LEVEL: LOUD")
                 .replace("RPC_TIMEOUT: ${RPC_TIMEOUT:5}", "RPC_TIMEOUT: -1"))
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert "LOG_LEVEL" in str(exc.value) and "RPC_TIMEOUT" in str(exc.value)


def test_a_partial_mapping_is_completed_from_the_file_not_from_code():
    settings = settings_of({"JWT_SECRET": "s" * 32})
    assert settings.JWT_SECRET == "s" * 32
    assert settings.RPC_TIMEOUT == read_file(DEFAULT_CONFIG_PATH)["RPC_TIMEOUT"]


def test_a_mapping_changed_in_place_is_checked_again():
    config = {"RPC_TIMEOUT": 5}
    assert settings_of(config).RPC_TIMEOUT == 5
    config["RPC_TIMEOUT"] = 7
    assert settings_of(config).RPC_TIMEOUT == 7
    config["RPC_TIMEOUT"] = "soon"
    with pytest.raises(ConfigError, match="RPC_TIMEOUT"):
        settings_of(config)


def test_no_code_repeats_a_default_with_config_get():
    """A default lives in config/imageboard.yaml; code reads settings_of(config).KEY."""
    offenders = []
    for package in ("contracts", "imageboard", "analytics_store", "services", "gateway",
                    "analytics-pipeline/analytics_pipeline", "imageboard_ops"):
        for root, _dirs, files in os.walk(os.path.join(PROJECT_ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    for number, line in enumerate(open(path), 1):
                        if re.search(r"config\.get\(\s*['\"][A-Za-z_]+['\"]\s*,", line):
                            offenders.append(f"{path}:{number}: {line.strip()}")
    assert offenders == []


def test_env_example_states_the_same_defaults_as_the_file():
    file_text = open(DEFAULT_CONFIG_PATH).read()
    defaults = dict(re.findall(r"^\s*[A-Za-z_]+:\s*\$\{([A-Z_]+):([^}]*)\}", file_text, flags=re.M))
    example = dict(re.findall(r"^([A-Z_]+)=(.*)$", open(os.path.join(PROJECT_ROOT, ".env.example")).read(),
                              flags=re.M))
    for name, default in defaults.items():
        assert name in example, f".env.example lacks {name}"
        assert example[name] == default.strip('"'), f"{name}: .env.example {example[name]!r} vs {default!r}"


def test_an_empty_variable_is_an_empty_string_not_null(monkeypatch):
    # compose passes `KAFKA_TOPIC_PREFIX: ${KAFKA_TOPIC_PREFIX:-}`: set, empty. The YAML
    # substitution reads that as null; the setting must still load, as "".
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "")
    assert load_config()["KAFKA_TOPIC_PREFIX"] == ""
