"""RPC for the stream process's threads: the access feed's snapshots and gap repair, the
hydration batches and the post-exists check at connect. Never per delivered event.

nameko's standalone ClusterRpcProxy (plain threads, no eventlet here), one per thread
(a proxy is not thread-safe), reopened after a failure."""
import threading

from nameko.standalone.rpc import ClusterRpcProxy

from imageboard.settings import settings_of


class ThreadRpc:
    def __init__(self, config):
        self.config = config
        self.timeout = settings_of(config).RPC_TIMEOUT
        self._local = threading.local()

    def _proxy(self):
        proxy = getattr(self._local, "proxy", None)
        if proxy is None:
            self._local.cluster = ClusterRpcProxy(self.config, timeout=self.timeout)
            proxy = self._local.proxy = self._local.cluster.start()
        return proxy

    def read(self, service, method, *args, **kwargs):
        try:
            return getattr(getattr(self._proxy(), service), method)(*args, **kwargs)
        except Exception as exc:
            if exc.__class__.__name__ in ("RemoteError",) or hasattr(exc, "code"):
                raise  # the service answered (an error of its own): the proxy is fine
            self.reset()
            raise

    def reset(self):
        cluster = getattr(self._local, "cluster", None)
        self._local.proxy = self._local.cluster = None
        if cluster is not None:
            try:
                cluster.stop()
            except Exception:
                pass
