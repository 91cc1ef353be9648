"""What vulture reports as unused and why each one stays: read by vulture, never imported.

    .venv/bin/vulture          # paths and options: [tool.vulture] in pyproject.toml

scans the production packages and bench/ at --min-confidence 60 with this file;
tests/unit/test_dead_code.py fails when it reports anything. A new finding is either dead
(delete it) or used by something vulture cannot see: then name it below, under its reason.
Entrypoints decorated with @rpc, @consume_events or @timer are skipped by the config
(nameko calls them); everything else a framework calls by name is here. Vulture matches
names, not places: `_.on_get` keeps every attribute called on_get.
"""
# ruff: noqa
# fmt: off

# --- nameko: the service classes (`nameko run services.<name>.service` finds them) and
# the hooks nameko calls on entrypoints, extensions and dependency providers.
AnalyticsService
CommentsService
ModerationService
NotificationsService
PostsService
UsersService
_.check_signature      # DomainRpc overrides nameko's Entrypoint.check_signature
_.rpc_consumer         # DomainRpc's sub-extensions: nameko binds extension attributes
_.metrics_server
_.get_dependency
_.worker_setup
_.worker_result
_.worker_teardown
_.on_dead_letter       # @dead_letters (imageboard/events/kafka_entrypoint.py) runs it

# --- falcon: responders, middleware hooks (req_succeeded is part of the hook's
# signature) and a router option set by assignment.
_.on_get
_.on_post
_.on_patch
_.on_put
_.on_delete
_.process_request
_.process_resource
_.process_response
req_succeeded
_.strip_url_path_trailing_slash
_.sse                  # falcon.asgi Response.sse: the event generator of GET /api/stream/
_.process_startup      # falcon.asgi lifespan middleware hooks (streaming/app.py)
_.process_shutdown

# --- gunicorn reads these names from gateway/gunicorn_conf.py.
worker_class
graceful_timeout
keepalive
accesslog
errorlog
on_starting
child_exit
# gunicorn.http.wsgi reads SERVER for each response's Server header, gunicorn.workers.base
# calls util.write_error for each request it refuses itself (both set in gunicorn_conf.py).
_.SERVER
_.write_error

# --- prometheus_client calls a registered collector's collect().
_.collect

# --- psycopg2: a connection attribute set by assignment.
_.autocommit

# --- peewee: model Meta options, and columns the models declare to mirror their tables
# (the code reaches them in SQL).
Meta
_.table_name
_.event_key            # imageboard/events/outbox.py: the outbox table's key column
_.processed_at         # services/notifications/models.py: processed_events' age column
_.removed_at           # posts and comments: when an admin removed it (set in the update)

# --- pydantic: model options, and the Settings fields (imageboard/settings.py) the code
# reads by key from the config dict (config["AMQP_URI"]) or that nameko reads itself.
_.model_config
AMQP_URI
LOGGING
POSTGRES_URL
DB_PREFIX
KAFKA_BOOTSTRAP_SERVERS
CLICKHOUSE_URL
GATEWAY_BIND
GATEWAY_WORKERS
GATEWAY_THREADS
WEB_BIND
SERVICES
LOG_LEVEL
RATE_LIMIT_POST_CREATE     # read through getattr(settings, rule.setting) (gateway/ratelimit.py RULES)
RATE_LIMIT_COMMENT_CREATE
RATE_LIMIT_LIKE
RATE_LIMIT_REPORT
RATE_LIMIT_EXPORT
environment            # settings._file_defaults: an lru_cache key, not read in the body
_._dedupe_window_outlasts_the_topics  # a @model_validator of Settings: pydantic runs it

# --- pydantic: fields of the response models (contracts/schemas/) that only pydantic reads,
# to write the OpenAPI document's schemas and to check answers in the tests (the services
# build the answers as dicts, by key; bench/schema_libs.py has msgspec twins); and a hook
# of pydantic's JSON Schema generator that gateway/openapi.py overrides.
posts_count
avg_likes_per_post
most_liked_post
period
posts_per_day
most_active_users
likes_statistics
posts_created
comments_written
likes_given
activity_timeline
avatar_url
previous
avatar_url
expires_at
ban
bio                    # the export's profile (contracts/schemas/export.py)
removed
removed_reason
open_reports           # ModerationStats (contracts/schemas/analytics.py)
reports_per_day
median_time_to_resolve_seconds
removals_by_reason
_.field_title_should_be_set

# --- operator API: called from `nameko shell` (docs/operations.md) and by tests.
republish              # imageboard_ops/outbox.py

# --- the event catalogue (contracts/events.py): payload fields only consumers outside
# this repository read, and the synthetic events' (tests/synthetic_events.py) state the
# pipeline benchmark sets.
_.notification_type    # notification.created
_.removed_by           # content.removed (also a posts/comments column)
_.restored_by          # content.restored
_.next_post            # bench/pipeline.py starts its markers' post ids high
_.resolved_by          # report.resolved and the report's resolution (consumers, clients)
_.reported_at          # report.resolved (the analytics of section 8.3)
_.banned_by            # user.banned; bans.banned_by (set by keyword)
_.unbanned_by          # user.unbanned
_.lifted_by            # bans.lifted_by (set by keyword)

# --- the access feed (imageboard/access): its message models are declared for the feed's
# catalogue (contracts/events.py FEED_CATALOGUE: schema files, docs/events.md, and
# validate_access_change finds them there by kind); request fields pydantic reads.
AccessMinVersion
AccessRevokeJti
AccessAdmin
AccessErased
AccessBan
AccessUnban
AccessHeartbeat
current_password       # PasswordChangeRequest
new_password
_.on_change            # AccessState listeners: the live-updates process closes streams on it
expires_in             # StreamTicket (POST /api/stream/ticket/)
