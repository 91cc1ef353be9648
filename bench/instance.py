"""Which bench instance this is and where its files live: shared by bench.run (which
starts it) and bench.restart (which restarts a kept one). No side effects on import."""
import os
import tempfile

INSTANCE = os.environ.get("BENCH_INSTANCE", "bench")
VAR = os.path.join(tempfile.gettempdir(), f"imageboard-{INSTANCE}-var")
