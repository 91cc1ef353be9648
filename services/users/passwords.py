"""argon2id password hashing, run in eventlet's OS-thread pool.

A hash takes tens of milliseconds of CPU; done on the eventlet hub it would freeze every
other worker of the service (and miss AMQP heartbeats), so it goes to tpool.
"""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool

# argon2id with OWASP's recommended minimum (m=19 MiB, t=2, p=1): ~15-20 ms per hash on
# one core here. argon2-cffi's default (64 MiB, t=3, p=4) took 130 ms and capped login at
# ~7 req/s on this 2-core machine. Parameters live in each hash, so old hashes still verify.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the username does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")


def hash_password(password):
    return tpool.execute(_hasher.hash, password)


def verify_password(password_hash, password):
    try:
        return tpool.execute(_hasher.verify, password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
