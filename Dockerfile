# syntax=docker/dockerfile:1
# One image for every Python part: the Nameko services, the gateway, the analytics
# pipeline and the `imageboard` operator CLI; docker-compose.yml picks the command.
#   docker build -t imageboard .              (production: target "app")
#   docker build --target dev -t imageboard:dev .   (adds the auto-restart watcher)
FROM python:3.11-slim-bookworm AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IMAGEBOARD_VAR=/app/var

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin imageboard

# Dependencies first, from pyproject.toml alone, so a source change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY contracts/ contracts/
COPY imageboard/ imageboard/
COPY analytics_store/ analytics_store/
COPY services/ services/
COPY gateway/ gateway/
COPY analytics-pipeline/ analytics-pipeline/
COPY imageboard_ops/ imageboard_ops/
COPY config/ config/
# Editable: the code finds config/ and migrations beside itself (PROJECT_ROOT = /app).
RUN pip install --no-deps -e . \
    && mkdir -p /app/var /data/media /data/uploads \
    && chown -R imageboard:imageboard /app/var /data

USER imageboard
# Overridden per service in docker-compose.yml.
CMD ["imageboard", "--help"]

FROM app AS dev
USER root
# watchmedo restarts `nameko run` on source changes (gunicorn has its own --reload).
RUN pip install watchdog==7.1.0
USER imageboard
