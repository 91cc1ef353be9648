"""The RPC floor: what one sequential request/reply costs on this broker before any
service logic. A raw AMQP round trip with kombu (an echo consumer in a thread, reply-to
queue + correlation id, as an RPC does) beside a Nameko RPC call (standalone
ClusterRpcProxy, users.ping), both sequential."""
import statistics
import threading
import time
import uuid

from kombu import Connection, Exchange, Producer, Queue
from nameko.standalone.rpc import ClusterRpcProxy


def _summary(name, latencies, elapsed):
    ordered = sorted(latencies)
    return {"name": name, "calls": len(ordered), "calls_per_s": round(len(ordered) / elapsed, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2)}


def kombu_round_trip(amqp_uri, calls=2000):
    queue_name = f"bench-echo-{uuid.uuid4().hex[:8]}"
    ready, stop = threading.Event(), threading.Event()

    def echo_server():
        with Connection(amqp_uri) as conn:
            producer = Producer(conn.channel())
            queue = Queue(queue_name, exchange=Exchange(""), routing_key=queue_name,
                          auto_delete=True)

            def on_message(body, message):
                producer.publish(body, routing_key=message.properties["reply_to"],
                                 correlation_id=message.properties["correlation_id"],
                                 serializer="json")
                message.ack()
            with conn.Consumer(queue, callbacks=[on_message], accept=["json"]):
                ready.set()
                while not stop.is_set():
                    try:
                        conn.drain_events(timeout=0.2)
                    except TimeoutError:
                        pass

    server = threading.Thread(target=echo_server, daemon=True)
    server.start()
    ready.wait(10)
    latencies = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        reply_queue = Queue(f"{queue_name}-reply", exclusive=True, auto_delete=True)
        replies = {}

        def on_reply(body, message):
            replies[message.properties["correlation_id"]] = body
            message.ack()
        producer = Producer(channel)
        with conn.Consumer(reply_queue, callbacks=[on_reply], accept=["json"], channel=channel):
            started = time.perf_counter()
            for i in range(calls):
                correlation_id = uuid.uuid4().hex
                t0 = time.perf_counter()
                producer.publish({"args": [i]}, routing_key=queue_name, serializer="json",
                                 reply_to=reply_queue.name, correlation_id=correlation_id)
                while correlation_id not in replies:
                    conn.drain_events(timeout=5)
                replies.pop(correlation_id)
                latencies.append(time.perf_counter() - t0)
            elapsed = time.perf_counter() - started
    stop.set()
    server.join(5)
    return _summary("kombu raw AMQP round trip", latencies, elapsed)


def nameko_rpc(config, calls=2000, service="users", method="ping"):
    latencies = []
    with ClusterRpcProxy(config) as proxy:
        target = getattr(proxy[service], method)
        target()  # warm: reply queue declared, connection open
        started = time.perf_counter()
        for _ in range(calls):
            t0 = time.perf_counter()
            target()
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
    return _summary(f"Nameko RPC {service}.{method} (standalone proxy)", latencies, elapsed)
