"""`python -m analytics_pipeline`: run the Kafka -> ClickHouse pipeline until SIGTERM/SIGINT."""
import signal

from analytics_pipeline import metrics
from analytics_store.client import make_client
from analytics_pipeline.consumer import ClickHouseSink, Pipeline
from imageboard import logs
from imageboard.config import load_config


def main():
    config = load_config()
    logs.configure(config.get("LOG_LEVEL", "INFO"))
    metrics.serve(config)
    pipeline = Pipeline(config, ClickHouseSink(make_client(config)))
    signal.signal(signal.SIGTERM, pipeline.stop)
    signal.signal(signal.SIGINT, pipeline.stop)
    pipeline.run()


if __name__ == "__main__":
    main()
