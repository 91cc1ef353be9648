"""Shared kernel of the imageboard: configuration, errors, logging, database and ops tooling."""
import os

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
