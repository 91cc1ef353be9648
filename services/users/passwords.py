"""argon2id password hashing, run in eventlet's OS-thread pool.

A hash takes tens of milliseconds of CPU; done on the eventlet hub it would freeze every
other worker of the service (and miss AMQP heartbeats), so it goes to tpool.
"""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool

_hasher = PasswordHasher()  # RFC 9106 low-memory profile: argon2id, t=3, m=64 MiB, p=4
# Verified against when the username does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")


def hash_password(password):
    return tpool.execute(_hasher.hash, password)


def verify_password(password_hash, password):
    try:
        return tpool.execute(_hasher.verify, password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
