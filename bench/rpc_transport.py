"""A measurement behind a design choice of the posts service (rough: shared 2-core box):
image bytes inside the RPC message (base64 in nameko's JSON) versus the gateway writing
the upload to a shared directory and sending only its name. It runs its own throwaway
nameko service; no stack is needed, only the broker.

    . your-instance-env.sh   # own AMQP vhost
    .venv/bin/python -m bench.rpc_transport
"""
import eventlet

eventlet.monkey_patch()

import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from nameko.containers import ServiceContainer  # noqa: E402
from nameko.rpc import rpc  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from imageboard.config import load_config  # noqa: E402
from tests.imagefiles import png_of_exact_size  # noqa: E402

SIZE = 5 * 1024 * 1024
RUNS = 15
FOLDER = tempfile.mkdtemp(prefix="transport-")


class UploadProbe:
    name = "upload_probe"

    @rpc
    def take_bytes(self, encoded):
        data = base64.b64decode(encoded)
        return len(data)

    @rpc
    def take_path(self, name):
        path = os.path.join(FOLDER, name)
        with open(path, "rb") as fh:
            size = len(fh.read())
        os.unlink(path)
        return size


def timed(fn):
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def main():
    config = load_config()
    data = png_of_exact_size(SIZE)
    container = ServiceContainer(UploadProbe, config)
    container.start()
    report = {"image_bytes": SIZE, "runs": RUNS}
    try:
        with ClusterRpcProxy(config, timeout=60) as proxy:
            def in_message():
                assert proxy.upload_probe.take_bytes(base64.b64encode(data).decode()) == SIZE

            def via_path():
                name = uuid.uuid4().hex
                with open(os.path.join(FOLDER, name), "wb") as fh:
                    for i in range(0, SIZE, 65536):  # as the gateway streams it
                        fh.write(data[i:i + 65536])
                assert proxy.upload_probe.take_path(name) == SIZE

            report["bytes in the RPC message (base64, %d bytes on the wire)" % len(base64.b64encode(data))] = timed(in_message)
            report["file in a shared directory, name in the message"] = timed(via_path)
    finally:
        container.stop()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
