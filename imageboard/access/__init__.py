"""Who may do what, right now: the one revocation / rights / ban feed (contract v2 §3.3).

Source services (users: token versions, revoked tokens, admins, erased users; moderation:
bans) record each change in their own `access_changes` table in the writer's transaction
(log.py), publish it after the commit to a RabbitMQ fanout exchange and serve snapshots
over RPC (feed.py, AccessFeed). Every gateway process holds the state in memory
(state.py, AccessState) fed by one AccessFeedSubscriber thread, so checking a token costs
no RPC and no query.
"""
