"""The one free_port of the tree: tests, fault tests and benchmarks import it from here."""
import socket


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it). Another
    process may take it before the caller binds it; good enough for private test servers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
