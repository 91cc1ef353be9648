"""Starting and stopping the whole system; used by the CLI and by the test suite."""
import logging

import requests

from imageboard.events.kafka import TopicsUnavailable, ensure_topics
from imageboard_ops.migrate import migrate_all
from imageboard_ops import infra, processes
from imageboard_ops.util import wait_for


def gateway_url(config):
    host, _, port = str(config["GATEWAY_BIND"]).rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0") else host
    return f"http://{host}:{port}"


def stream_url(config):
    host, _, port = str(config["STREAM_BIND"]).rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0") else host
    return f"http://{host}:{port}"


def _answers(url):
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def start(config, with_infra=True, timeout=60):
    """Servers (reused or started), migrations, services, gateway; returns once /ready
    answers 200, i.e. every service consumes its queue."""
    report = infra.ensure(config, starter=infra.STACK) if with_infra else {}
    applied = migrate_all(config)
    topics = _create_topics(config)
    for spec in processes.app_processes(config):
        processes.start(spec)
    base = gateway_url(config)
    wait_for(lambda: _answers(base + "/health"), timeout, what="gateway /health")
    wait_for(lambda: _answers(base + "/ready"), timeout, what="every service to answer /ready")
    # The stream process listens (its /ready also needs Kafka read up to date: a start with
    # Kafka down must not wait for it; `imageboard status` shows it).
    stream = stream_url(config)
    wait_for(lambda: _answers(stream + "/health"), timeout, what="the stream process's /health")
    return {"infra": report, "migrations": applied, "topics": topics, "gateway": base,
            "stream": stream}


def _create_topics(config):
    """The event topics of the catalogue (with KAFKA_TOPIC_PREFIX). Kafka being down does not stop
    the start: writes go to the outboxes and each relay creates the topics later."""
    try:
        return ensure_topics(config)
    except TopicsUnavailable as exc:
        logging.getLogger(__name__).warning("kafka topics not created yet", extra={"error": str(exc)})
        return []


def stop(config, keep_infra=False):
    for spec in reversed(processes.app_processes(config)):
        processes.stop(spec.name)
    if not keep_infra:  # the servers this stack's start started, not `infra up`'s
        infra.stop_started(config, starter=infra.STACK)
