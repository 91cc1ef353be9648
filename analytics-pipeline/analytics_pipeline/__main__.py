"""`python -m analytics_pipeline`: run the Kafka -> ClickHouse pipeline until SIGTERM/SIGINT."""
import signal
import sys

from analytics_pipeline import metrics
from analytics_store.client import make_client
from analytics_pipeline.consumer import ClickHouseSink, Pipeline
from imageboard import logs
from imageboard.config import load_config
from imageboard.settings import ConfigError


def main():
    try:
        config = load_config()
    except ConfigError as exc:
        sys.exit(f"analytics_pipeline: {exc}")
    logs.configure(config["LOG_LEVEL"])
    metrics.serve(config)
    pipeline = Pipeline(config, ClickHouseSink(make_client(config)))
    signal.signal(signal.SIGTERM, pipeline.stop)
    signal.signal(signal.SIGINT, pipeline.stop)
    pipeline.run()


if __name__ == "__main__":
    main()
