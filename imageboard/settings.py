"""The typed settings of every process, checked once at start.

config/imageboard.yaml is the one place where each setting's default is stated (with its
environment override, `${NAME:default}`, and a comment on what it does). This module
states each setting's type and bounds. `load_config()` reads the file, applies the
environment and checks the result against `Settings`: an unknown key or a value of the
wrong type stops the process with a message naming the key, the file and, where the
value came from the environment, the variable.

Code reads settings through `settings_of(config)`, once, where it sets itself up (an app,
a dependency provider, a client), and keeps the object. `config` is the plain dict that
nameko hands to containers; a partial dict (a unit test's) is completed from the file's
defaults, so no code repeats a default.
"""
import functools
import os
import re
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, NonNegativeInt,
                      PlainSerializer, PositiveFloat, PositiveInt, ValidationError,
                      model_validator)

from imageboard import PROJECT_ROOT

DEFAULT_CONFIG_PATH = os.path.join(PROJECT_ROOT, "config", "imageboard.yaml")
SERVICE_NAME = r"^[a-z][a-z0-9_]*$"
# `KEY: ${NAME:""}` with NAME set but empty (compose's `${NAME:-}`) reads as YAML null: an
# empty variable means the empty string, so a str setting that may be empty takes None as "".
EmptyableStr = Annotated[str, BeforeValidator(lambda value: "" if value is None else value)]


class RateLimit(NamedTuple):
    """A per-user limit (contract v2 section 3.4): `count` requests per fixed window of
    `seconds`."""

    count: int
    seconds: int

    def __str__(self):
        return f"{self.count}/{self.seconds}"


def _rate_limit(value):
    """'<count>/<seconds>' -> RateLimit, '0' -> None (the limit is off)."""
    if isinstance(value, RateLimit):
        return value
    text = "" if value is None else str(value).strip()  # None: an empty variable
    if text == "0":
        return None
    match = re.fullmatch(r"(\d{1,9})\s*/\s*(\d{1,9})", text)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ValueError("must be '<count>/<seconds>' with both at least 1 (e.g. 10/600),"
                         " or 0 to turn the limit off")
    return RateLimit(int(match[1]), int(match[2]))


# Dumped back as the text it was read from, so load_config()'s plain dict reads again.
RateLimitSetting = Annotated[RateLimit | None, BeforeValidator(_rate_limit),
                             PlainSerializer(lambda limit: str(limit) if limit else "0")]


class Settings(BaseModel):
    """One field per key of config/imageboard.yaml (the comments there say what each does)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # nameko's own keys (read by nameko itself too)
    AMQP_URI: str = Field(pattern=r"^(pyamqp|amqp|amqps)://")
    serializer: Literal["json"]
    max_workers: PositiveInt
    LOGGING: dict[str, Any]

    RPC_TIMEOUT: PositiveFloat
    POSTGRES_URL: str = Field(pattern=r"^postgres(ql)?://")
    DB_PREFIX: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    JWT_SECRET: str = Field(min_length=16)
    JWT_LIFETIME_SECONDS: PositiveInt
    # A PostgreSQL text search configuration name (regconfig), e.g. simple, russian.
    SEARCH_CONFIG: str = Field(pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")

    KAFKA_BOOTSTRAP_SERVERS: str = Field(min_length=1)
    KAFKA_TOPIC_PREFIX: EmptyableStr
    KAFKA_TOPIC_PARTITIONS: PositiveInt
    KAFKA_REPLICATION_FACTOR: PositiveInt
    KAFKA_RETENTION_HOURS: PositiveFloat
    KAFKA_MESSAGE_TIMEOUT_MS: PositiveInt
    KAFKA_SESSION_TIMEOUT_MS: PositiveInt
    KAFKA_COMMIT_INTERVAL_MS: PositiveInt
    OUTBOX_POLL_INTERVAL: PositiveFloat
    OUTBOX_COALESCE_SECONDS: float = Field(ge=0)
    OUTBOX_REPLAY_SECONDS: float = Field(ge=0)
    OUTBOX_RETENTION_DAYS: PositiveFloat
    PROCESSED_EVENTS_RETENTION_DAYS: PositiveFloat

    CLICKHOUSE_URL: str = Field(pattern=r"^clickhouse://")
    PIPELINE_BATCH_SIZE: PositiveInt
    PIPELINE_BATCH_SECONDS: PositiveFloat
    PIPELINE_RETRY_SECONDS: PositiveFloat

    MEDIA_ROOT: str = Field(min_length=1)
    MEDIA_URL: str = Field(pattern=r"^/")
    UPLOAD_DIR: str
    MAX_IMAGE_BYTES: PositiveInt
    MAX_IMAGE_PIXELS: PositiveInt

    GATEWAY_BIND: str = Field(pattern=r"^[^:]*:\d+$")
    GATEWAY_WORKERS: PositiveInt
    GATEWAY_THREADS: PositiveInt
    WEB_BIND: str = Field(pattern=r"^[^:]*:\d+$")

    SERVICES: list[Annotated[str, Field(pattern=SERVICE_NAME)]] = Field(min_length=1)
    ACCESS_SOURCES: Literal["auto"] | list[Annotated[str, Field(pattern=SERVICE_NAME)]]
    ACCESS_FEED_HEARTBEAT: PositiveFloat
    ACCESS_FEED_STALE_AFTER: PositiveFloat

    METRICS_HOST: str
    METRICS_PORT: NonNegativeInt | Literal[""]
    METRICS_PORT_BASE: NonNegativeInt

    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

    # Per-user rate limits (gateway/ratelimit.py) and the Redis holding their counters.
    REDIS_URL: str = Field(pattern=r"^rediss?://")
    RATE_LIMIT_POST_CREATE: RateLimitSetting
    RATE_LIMIT_COMMENT_CREATE: RateLimitSetting
    RATE_LIMIT_LIKE: RateLimitSetting
    RATE_LIMIT_REPORT: RateLimitSetting
    RATE_LIMIT_EXPORT: RateLimitSetting

    # Live updates (streaming/, contract v2 section 7).
    STREAM_BIND: str = Field(pattern=r"^[^:]*:\d+$")
    SSE_HEARTBEAT_SECONDS: PositiveFloat
    SSE_REPLAY_SECONDS: PositiveFloat
    SSE_REORDER_SECONDS: float = Field(ge=0, le=5)
    SSE_MAX_STREAMS: PositiveInt
    SSE_MAX_CONNECTIONS_PER_USER: PositiveInt
    SSE_MAX_CONNECTIONS_PER_IP: PositiveInt
    SSE_CONNECTION_BUFFER: PositiveInt
    SSE_TICKET_SECONDS: PositiveInt

    @model_validator(mode="after")
    def _dedupe_window_outlasts_the_topics(self):
        """The notifications service forgets a handled event id after
        PROCESSED_EVENTS_RETENTION_DAYS; the topics keep a message KAFKA_RETENTION_HOURS. A
        copy delivered after its id was forgotten (a consumer group reset to the earliest
        offset) would be handled again, so the topics must forget first (docs/events.md,
        "Idempotency beyond the dedupe window")."""
        if self.KAFKA_RETENTION_HOURS >= self.PROCESSED_EVENTS_RETENTION_DAYS * 24:
            raise ValueError(
                f"KAFKA_RETENTION_HOURS ({self.KAFKA_RETENTION_HOURS:g} hours) must be shorter"
                f" than PROCESSED_EVENTS_RETENTION_DAYS ({self.PROCESSED_EVENTS_RETENTION_DAYS:g}"
                f" days = {self.PROCESSED_EVENTS_RETENTION_DAYS * 24:g} hours): a message still"
                " on a topic must never outlive its consumers' record of having handled it")
        return self


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key, file and variable."""


def config_path():
    return os.environ.get("IMAGEBOARD_CONFIG", DEFAULT_CONFIG_PATH)


def _yaml_loader():
    import yaml
    from nameko.cli.main import setup_yaml_parser

    setup_yaml_parser()  # `${NAME:default}` exactly as `nameko run --config` reads it
    return yaml


def read_file(path):
    """The file's mapping with the environment applied (no checks)."""
    yaml = _yaml_loader()
    with open(path) as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the file must hold a mapping of settings")
    return data


@functools.lru_cache(maxsize=None)
def env_names(path):
    """{key: environment variable} for each top-level `KEY: ${NAME...}` line of the file."""
    names = {}
    with open(path) as fh:
        for line in fh:
            match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):\s*\$\{([^}:\s]+)", line)
            if match:
                names[match.group(1)] = match.group(2)
    return names


def check(data, path):
    """Settings from a complete mapping, or ConfigError naming every bad key."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, data, path)) from None


def _describe(exc, data, path):
    names = env_names(path) if os.path.exists(path) else {}
    problems = []
    for error in exc.errors():
        if not error["loc"]:  # a rule across keys (a model validator): its message names them
            keys = [k for k in re.findall(r"\b[A-Z][A-Z0-9_]+\b", error["msg"]) if k in names]
            sources = [f"{names[k]} from the environment" for k in keys if names[k] in os.environ]
            problems.append(error["msg"].removeprefix("Value error, ")
                            + (f" ({', '.join(sources)})" if sources else ""))
            continue
        key = str(error["loc"][0])
        if error["type"] == "extra_forbidden":
            problems.append(f"{key}: unknown setting (a typo? known: see imageboard/settings.py)")
            continue
        where = ".".join(str(part) for part in error["loc"])
        source = ""
        if key in names and names[key] in os.environ:
            source = f" (from the environment variable {names[key]})"
        value = data.get(key, "<missing>")
        problems.append(f"{where}: {error['msg']}; got {value!r}{source}")
    return f"{path}: invalid configuration:\n  " + "\n  ".join(problems)


@functools.lru_cache(maxsize=4)
def _file_defaults(path, environment):
    # Keyed by the environment too: tests set variables before a config is first read.
    return read_file(path)


def defaults(path=None):
    path = path or config_path()
    return dict(_file_defaults(path, tuple(sorted(os.environ.items()))))


_SEEN = {}  # id(config) -> (config, copy of it, Settings): one check per mapping


def settings_of(config):
    """The Settings of a config mapping (a complete one from load_config or nameko, or a
    test's partial one, completed from the file). Keys the file does not know, such as
    those nameko's test fixtures add, are ignored here: load_config() refuses them.
    Checked once per mapping (again only if it was changed in place)."""
    if isinstance(config, Settings):
        return config
    seen = _SEEN.get(id(config))
    if seen is not None and seen[0] is config and seen[1] == config:
        return seen[2]
    merged = defaults()
    merged.update((key, value) for key, value in config.items() if key in Settings.model_fields)
    settings = check(merged, config_path())
    if len(_SEEN) > 256:  # test runs make many short-lived configs
        _SEEN.clear()
    _SEEN[id(config)] = (config, dict(config), settings)
    return settings
