"""Live updates (contract v2 section 7): the stream process.

A Falcon ASGI app under uvicorn (`python -m streaming`, `imageboard stream`), beside the
REST gateway so open streams never take request capacity from it. Fed by the domain
events already on Kafka, read by one consumer thread without a consumer group (every
process assigns every partition itself and holds SSE_REPLAY_SECONDS of events in memory);
no RPC and no database query per delivered event. Closed streams on logout, revocation
and erasure come from the one access feed (imageboard/access). docs/events.md, "Live
updates".

- ids.py     event ids: Kafka positions, so any process resumes any other's stream
- hub.py     reorder window, per-stream replay buffers, connections, routing (pure)
- translate.py  Kafka event -> SSE events (names, streams, data), hydration batches
- feed.py    the Kafka consumer thread
- app.py     the HTTP endpoints; __main__.py runs it
"""
