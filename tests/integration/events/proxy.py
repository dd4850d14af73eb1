"""A TCP proxy in front of RabbitMQ, so a test can take the broker away without stopping it.

The machine's RabbitMQ is shared with other test runs, so an outage is simulated
here: `close()` refuses new connections and cuts every open one (as a broker that
died would), `open()` lets connections through again. With `answer_delay` it also
plays a slow server: every chunk of an answer waits that many seconds (the fault
suite puts one in front of the order service).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.support.stack import free_port


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, answer_delay: float = 0.0) -> None:
        self.target = (target_host, target_port)
        self.answer_delay = answer_delay
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open_sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._listener is not None

    def open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
        with self._lock:
            doomed, self._open_sockets = self._open_sockets, set()
        for sock in doomed:
            self._drop(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed: the outage has begun
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # closed meanwhile
                    self._drop(client)
                    self._drop(upstream)
                    return
                self._open_sockets |= {client, upstream}
            for source, sink, delay in ((client, upstream, 0.0),
                                        (upstream, client, self.answer_delay)):
                threading.Thread(target=self._pump, args=(source, sink, delay),
                                 daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _pump(self, source: socket.socket, sink: socket.socket, delay: float) -> None:
        try:
            while data := source.recv(65536):
                if delay:
                    time.sleep(delay)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source)
            self._drop(sink)
            with self._lock:
                self._open_sockets -= {source, sink}

    @staticmethod
    def _drop(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
