"""Small TCP servers of the shapes real ones have, and a client that makes short
connections to them, for the process attribution tests (test_owners.py).

Run as a script: ``servers.py serve SHAPE --name COMM ...`` prints one JSON line
{"port": P, "pids": [...]} once it listens, then serves until killed; ``servers.py
connect --port P ...`` makes its connections and prints {"pid": ..., "ports": [...]}
(the local port of each, in order; with --last-close-by NAME a forked child of that name
makes each connection's last close). Every connection carries exact byte counts: the
client sends --request bytes, the server answers --answer bytes and closes.

Shapes:
- simple: one process accepts, reads, answers and closes, one connection at a time.
- threaded: the main thread accepts; a pool of other threads reads, answers and closes.
- prefork: the parent listens and forks --workers processes sharing the listener; each
  accepts on its own and appends "client-port pid" to --accept-log.
- silent: accepts and closes at once, without reading or writing (with --last-close-by
  NAME a forked child of that name makes the last close).
With --hold, the server closes a connection only after the client has closed it.
"""

import argparse
import json
import os
import queue
import select
import signal
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from traffic import set_comm  # noqa: E402


def recv_exact(sock, nbytes):
    got = 0
    while got < nbytes:
        chunk = sock.recv(min(65536, nbytes - got))
        if not chunk:
            raise ConnectionError("peer closed after %d of %d bytes" % (got, nbytes))
        got += len(chunk)


def answer(sock, args):
    """One connection's server side: read the request, answer, close (with --hold, once
    the client has closed)."""
    try:
        recv_exact(sock, args.request)
        sock.sendall(b"a" * args.answer)
        while args.hold and sock.recv(65536):
            pass
    finally:
        sock.close()


def serve_simple(listener, args):
    while True:
        sock, _ = listener.accept()
        answer(sock, args)


def serve_threaded(listener, args):
    work = queue.Queue()

    def worker():
        while True:
            answer(work.get(), args)

    for _ in range(args.workers):
        threading.Thread(target=worker, daemon=True).start()
    while True:
        sock, _ = listener.accept()
        work.put(sock)


def serve_silent(listener, args):
    while True:
        sock, _ = listener.accept()
        if args.last_close_by:
            close_in_child(sock, args.last_close_by)
        else:
            sock.close()


def prefork_worker(listener, args):
    log = os.open(args.accept_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    while True:
        sock, peer = listener.accept()
        # Before the answer: the client may have finished (and the test read the log)
        # as soon as the connection is closed.
        os.write(log, b"%d %d\n" % (peer[1], os.getpid()))
        answer(sock, args)


def serve(args):
    set_comm(args.name)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    pids = [os.getpid()]
    if args.shape == "prefork":
        pids = []
        for _ in range(args.workers):
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                try:
                    prefork_worker(listener, args)
                finally:
                    os._exit(1)
            pids.append(pid)
    print(json.dumps({"port": listener.getsockname()[1], "pids": pids}), flush=True)
    if args.shape == "prefork":
        signal.signal(signal.SIGTERM, lambda *_: stop_workers(pids))
        for _ in pids:
            os.wait()
        return
    {"simple": serve_simple, "threaded": serve_threaded, "silent": serve_silent}[
        args.shape](listener, args)


def stop_workers(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def connect_nonblocking(port):
    """connect() that returns EINPROGRESS, then waits to be writable, as ab and most
    event-driven clients do."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    err = sock.connect_ex(("127.0.0.1", port))
    if err not in (0, 115):  # EINPROGRESS
        raise OSError(err, os.strerror(err))
    if not select.select([], [sock], [], 10)[1]:
        raise TimeoutError("connect to port %d did not complete" % port)
    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err:
        raise OSError(err, os.strerror(err))
    sock.setblocking(True)
    return sock


def close_in_child(sock, name):
    """The last close of sock made by a forked child named name, once this process has
    closed its own copy: as when a process that held the file for a moment (ss -p reading
    /proc, a fork) drops the last reference."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_w)
        set_comm(name)
        os.read(ready_r, 1)  # EOF: the parent's copy is closed
        sock.close()
        os._exit(0)
    os.close(ready_r)
    sock.close()
    os.close(ready_w)
    os.waitpid(pid, 0)


def connect(args):
    set_comm(args.name)
    ports = []
    for _ in range(args.count):
        if args.nonblocking:
            sock = connect_nonblocking(args.port)
        else:
            sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        ports.append(sock.getsockname()[1])
        sock.sendall(b"r" * args.request)
        recv_exact(sock, args.answer)
        if sock.recv(1):
            raise ConnectionError("more than %d bytes answered" % args.answer)
        if args.last_close_by:
            close_in_child(sock, args.last_close_by)
        else:
            sock.close()
    print(json.dumps({"pid": os.getpid(), "ports": ports}), flush=True)


def main(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("shape", choices=["simple", "threaded", "prefork", "silent"])
    s.add_argument("--name", required=True)
    s.add_argument("--workers", type=int, default=3)
    s.add_argument("--request", type=int, default=0)
    s.add_argument("--answer", type=int, default=0)
    s.add_argument("--accept-log")
    s.add_argument("--hold", action="store_true")
    s.add_argument("--last-close-by")
    c = sub.add_parser("connect")
    c.add_argument("--name", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--request", type=int, default=0)
    c.add_argument("--answer", type=int, default=0)
    c.add_argument("--nonblocking", action="store_true")
    c.add_argument("--last-close-by")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.command == "serve":
        serve(args)
    else:
        connect(args)


if __name__ == "__main__":
    main(sys.argv[1:])
