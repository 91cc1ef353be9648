"""Shared contracts: what the gateway, the services and the pipeline agree on, and nothing
that runs. Error classes and their codes, request and response models, the media rules, the
event catalogue. The lowest layer: it imports no other package of this project."""
