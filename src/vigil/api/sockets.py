"""Two fixes to how asyncio serves the listening socket that `vigil serve --workers N` shares
between its worker processes; applied in each worker before it starts serving (and by
bench/api.py's bare app, so the ceiling it measures against has them too)."""

from __future__ import annotations

import asyncio.base_events as base_events
import asyncio.selector_events as selector_events
import socket


def worker_sockets() -> None:
    tcp_nodelay_for_inherited_sockets()
    accept_one_connection_at_a_time()


def tcp_nodelay_for_inherited_sockets() -> None:
    """With `--workers N`, uvicorn hands the listening socket to each worker process, where it comes
    back with proto 0; asyncio then skips TCP_NODELAY on accepted connections (it checks for
    IPPROTO_TCP), and Nagle's algorithm meets delayed ACKs: every response waited ~40 ms (measured by
    bench/api.py: 362 requests/s on 16 connections for a bare app). Set it for any TCP stream socket."""

    def set_nodelay(sock) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    base_events._set_nodelay = set_nodelay


_start_serving = selector_events.BaseSelectorEventLoop._start_serving


def accept_one_connection_at_a_time() -> None:
    """Every worker waits on the shared socket; asyncio's accept loop takes up to `backlog` waiting
    connections per wake-up, so the first worker to wake took all 16 keep-alive connections of a
    client opened at once and the others stayed idle (bench/api.py: one worker at 92% CPU, the
    second at 0%, for `--workers 2`). Accepting one per wake-up lets whichever worker is free take
    the next: connections spread by load. The listen queue (`backlog`) is unchanged."""

    def start_serving(self, protocol_factory, sock, sslcontext=None, server=None, backlog=100, *args):
        return _start_serving(self, protocol_factory, sock, sslcontext, server, 1, *args)

    selector_events.BaseSelectorEventLoop._start_serving = start_serving
