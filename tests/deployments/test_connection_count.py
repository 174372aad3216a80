"""The count the deployment tests bound a worker's connections with: each socket once.

The kernel writes ``/proc/<pid>/net/tcp`` over several reads; when the table changes meanwhile
(all through a full test run, with thousands of TIME_WAIT rows), a read lists some sockets twice.
Counting rows made a gunicorn worker with a pool of 4 look like it held 7 or 8 connections.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from ._servers import connections_to, count_established


def test_a_socket_the_table_lists_twice_is_counted_once() -> None:
    # Never accepted: the kernel completes the connections in the listener's backlog.
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        port = listener.getsockname()[1]
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        try:
            assert connections_to(os.getpid(), port) == 4
            rows = Path(f"/proc/{os.getpid()}/net/tcp").read_text().splitlines()[1:]
            inodes = {str(os.fstat(sock.fileno()).st_ino) for sock in held}
            ours = [row for row in rows if row.split()[9] in inodes]
            assert len(ours) == 4
            # What a read of a changing table gives: the kernel resumed before our rows.
            assert count_established(rows + ours, inodes, port) == 4
            # Connections to another port, and sockets of another process, are not counted.
            assert count_established(rows, inodes, port + 1 if port < 65535 else 1) == 0
            assert count_established(rows, set(), port) == 0
        finally:
            for sock in held:
                sock.close()
    assert connections_to(os.getpid(), port) == 0
