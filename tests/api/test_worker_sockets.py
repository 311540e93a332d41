"""Several worker processes on one listening socket share the connections of a client that opens
them all at once (wrk, a proxy's keep-alive pool): each worker accepts one connection per wake-up,
so a busy worker leaves the next one to an idle one. Before, the first worker to wake accepted every
waiting connection and the others stayed idle (bench/api.py: one of two workers did all the work)."""

from __future__ import annotations

import asyncio
import asyncio.base_events as base_events
import asyncio.selector_events as selector_events
import multiprocessing
import os
import socket
import time

from vigil.api.sockets import worker_sockets


def _worker(sock: socket.socket, ready) -> None:
    worker_sockets()

    class Answer(asyncio.Protocol):
        def connection_made(self, transport):
            time.sleep(0.05)  # a busy worker: the loop is held as by a request being handled
            transport.write(str(os.getpid()).encode())
            transport.close()

    async def main():
        server = await asyncio.get_running_loop().create_server(Answer, sock=sock)
        ready.set()
        await server.serve_forever()

    asyncio.run(main())


def test_connections_opened_at_once_are_spread_over_the_workers():
    ctx = multiprocessing.get_context("fork")
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    readies = [ctx.Event() for _ in range(2)]
    workers = [ctx.Process(target=_worker, args=(listener, r), daemon=True) for r in readies]
    for w in workers:
        w.start()
    try:
        for r in readies:
            assert r.wait(10)
        time.sleep(0.2)  # both workers are waiting on the socket
        clients = [socket.create_connection(listener.getsockname(), timeout=10) for _ in range(16)]
        answered = []
        for c in clients:
            answered.append(c.recv(32).decode())
            c.close()
        counts = {pid: answered.count(pid) for pid in set(answered)}
        assert len(counts) == 2, f"one worker took every connection: {counts}"
        assert min(counts.values()) >= 4, counts
    finally:
        for w in workers:
            w.kill()
        listener.close()


class _CountingSocket(socket.socket):
    accepted = 0

    def accept(self):
        conn = super().accept()
        _CountingSocket.accepted += 1
        return conn


def test_a_worker_accepts_one_waiting_connection_per_wake_up(monkeypatch):
    """16 connections waiting when the worker starts serving: by the time it has started handling
    the first, it has taken at most one more off the queue (not all 16)."""
    loop_class = selector_events.BaseSelectorEventLoop
    monkeypatch.setattr(loop_class, "_start_serving", loop_class._start_serving)  # restored after
    monkeypatch.setattr(base_events, "_set_nodelay", base_events._set_nodelay)
    worker_sockets()
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    clients = [socket.create_connection(listener.getsockname(), timeout=10) for _ in range(16)]
    counting = _CountingSocket(fileno=listener.detach())
    counting.setblocking(False)
    seen: list[int] = []

    class Record(asyncio.Protocol):
        def connection_made(self, transport):
            seen.append(_CountingSocket.accepted)
            transport.close()

    async def main():
        server = await asyncio.get_running_loop().create_server(Record, sock=counting)
        for _ in range(200):
            if len(seen) == 16:
                break
            await asyncio.sleep(0.01)
        server.close()

    try:
        asyncio.run(main())
    finally:
        for c in clients:
            c.close()
        counting.close()
    assert len(seen) == 16
    assert seen[0] <= 2, f"{seen[0]} connections were taken before the first was handled"
