"""`python -m streaming` (`imageboard stream`): the stream process under uvicorn on
STREAM_BIND until SIGTERM/SIGINT, which first ends every open stream cleanly (clients
reconnect, with their Last-Event-ID, to another process), then stops."""
import os
import sys

import uvicorn

from imageboard import logs
from imageboard.config import load_config
from imageboard.settings import ConfigError, settings_of
from streaming.app import create_app
from streaming.runtime import Runtime


class StreamServer(uvicorn.Server):
    def __init__(self, config, runtime):
        super().__init__(config)
        self.runtime = runtime

    def handle_exit(self, sig, frame):
        loop = self.runtime.loop
        if loop is not None:
            loop.call_soon_threadsafe(self.runtime.shutdown)
        super().handle_exit(sig, frame)


def main():
    try:
        config = load_config()
    except ConfigError as exc:
        sys.exit(f"streaming: {exc}")
    logs.configure(config["LOG_LEVEL"])
    host, _, port = settings_of(config).STREAM_BIND.rpartition(":")
    runtime = Runtime(config)
    server = StreamServer(uvicorn.Config(
        create_app(runtime), host=host or "0.0.0.0", port=int(port), lifespan="on",
        http="httptools", loop="asyncio", access_log=False, log_config=None,
        # The client's address behind nginx (per-IP connection limits).
        proxy_headers=True, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        timeout_graceful_shutdown=10, backlog=4096, timeout_keep_alive=5), runtime)
    server.run()


if __name__ == "__main__":
    main()
