"""gunicorn entry point: `gunicorn -c gateway/gunicorn_conf.py gateway.wsgi:app`."""
from imageboard import logs
from imageboard.config import load_config

from gateway.app import create_app

config = load_config()
logs.configure(config["LOG_LEVEL"])
app = create_app(config)
