"""gunicorn settings, taken from config/imageboard.yaml (and so from the environment)."""
from imageboard.config import load_config

_config = load_config()

bind = str(_config["GATEWAY_BIND"])
worker_class = "gthread"
workers = int(_config["GATEWAY_WORKERS"])
# Each thread keeps its own RPC proxy (AMQP connection + reply queue).
threads = int(_config["GATEWAY_THREADS"])
# A request may wait RPC_TIMEOUT for a service; give it room before the worker is killed.
timeout = int(float(_config["RPC_TIMEOUT"])) * 4 + 10
graceful_timeout = int(float(_config["RPC_TIMEOUT"])) + 5
keepalive = 5
accesslog = None  # the RequestIdMiddleware writes one JSON access line per request
errorlog = "-"
