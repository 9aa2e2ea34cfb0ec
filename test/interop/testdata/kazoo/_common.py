"""Shared helpers for the kazoo interop scripts.

Every script takes the connect string (host:port, or several separated by
commas) as argv[1], works under its own root znode, prints OK on success and
raises (exit status 1) on failure.
"""
import logging
import sys
import threading
import time

from kazoo.client import KazooClient

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

WAIT = 20.0  # seconds to wait for any one event


def hosts():
    if len(sys.argv) < 2:
        raise SystemExit("usage: %s host:port" % sys.argv[0])
    return sys.argv[1]


def connect(chroot="", server=None, **kwargs):
    """Starts a client on the connect string, or on one server (host:port)."""
    c = KazooClient(hosts=(server or hosts()) + chroot, timeout=10.0, **kwargs)
    c.start(timeout=WAIT)
    return c


def control(request):
    """Asks the Go test that runs this script to act on the ensemble (see
    control in kazoo_cluster_test.go), e.g. "kill-server-of 0x1f", and
    returns its one-line answer."""
    print("CONTROL " + request, flush=True)
    answer = sys.stdin.readline()
    if not answer:
        raise SystemExit("no answer from the test to %r" % request)
    return answer.strip()


def session(client):
    """The client's session id in hex, as control requests name it."""
    return "0x%x" % client.client_id[0]


def check(cond, msg, *args):
    if not cond:
        raise AssertionError(msg % args if args else msg)


def expect(exc, fn, *args, **kwargs):
    """Calls fn and checks that it raises exc."""
    try:
        fn(*args, **kwargs)
    except exc:
        return
    except Exception as e:  # noqa: BLE001 - report the wrong exception
        raise AssertionError("%s: raised %r, want %s" % (fn.__name__, e, exc.__name__))
    raise AssertionError("%s: no exception, want %s" % (fn.__name__, exc.__name__))


def eventually(pred, what):
    """Polls pred until it holds, for at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not pred():
        check(time.monotonic() < deadline, "timed out waiting for %s", what)
        time.sleep(0.05)


def wait(event, what):
    check(event.wait(WAIT), "timed out waiting for %s", what)


class Recorder:
    """Collects values from watch callbacks and lets the script wait for them."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = []

    def add(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def wait_for(self, pred, what):
        with self.cond:
            ok = self.cond.wait_for(lambda: pred(self.items), timeout=WAIT)
            check(ok, "timed out waiting for %s; got %r", what, self.items)
            return list(self.items)
