"""The kernel every process imports: configuration, logging, the database pool and
migrations, the RPC and event machinery, metrics. It imports no service, gateway,
pipeline or operator tooling (docs/architecture.md)."""
import os

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
