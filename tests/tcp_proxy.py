"""A TCP proxy in front of a local server (the Rasa server for the browser tests,
PostgreSQL for the scale tests), so a test can cut every connection and restore them.

Stopping the real server would take a minute to undo (the model reloads); cutting the
proxy drops the browser's socket the same way a lost mobile connection does, and
``resume`` lets socket.io's automatic reconnection succeed.
"""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    """127.0.0.1:<port> -> 127.0.0.1:<target>; ``drop`` closes and refuses, ``resume``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._refusing = False
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            self._close_pair(src, dst)

    def _close_pair(self, *socks: socket.socket) -> None:
        for sock in socks:
            with self._lock:
                self._open.discard(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def drop(self) -> None:
        """Cut every open connection and refuse new ones until :meth:`resume`."""
        self._refusing = True
        with self._lock:
            socks = list(self._open)
        self._close_pair(*socks)

    def resume(self) -> None:
        self._refusing = False

    def close(self) -> None:
        self._closed = True
        self.drop()
        self._listener.close()
