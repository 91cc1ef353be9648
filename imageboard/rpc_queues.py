"""The RPC queues' two priorities, shared by the services (which declare the queues) and
their callers. Writes, and the calls a write makes to another service, go before the
reads waiting in the same queue: under load a like must not wait behind twenty feed
pages (docs/performance-log.md, fourth pass). A request with write priority is also taken
at most once: acknowledged before it runs (imageboard/service_kit.py _RpcConsumer.take)."""

RPC_QUEUE_ARGUMENTS = {"x-max-priority": 1}
READ_PRIORITY = 0
WRITE_PRIORITY = 1
