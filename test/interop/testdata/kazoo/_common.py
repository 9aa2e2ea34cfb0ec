"""Shared helpers for the kazoo interop scripts.

Every script takes the server address (host:port) as argv[1], works under its
own root znode, prints OK on success and raises (exit status 1) on failure.
"""
import logging
import sys
import threading

from kazoo.client import KazooClient

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

WAIT = 20.0  # seconds to wait for any one event


def hosts():
    if len(sys.argv) < 2:
        raise SystemExit("usage: %s host:port" % sys.argv[0])
    return sys.argv[1]


def connect(chroot="", **kwargs):
    c = KazooClient(hosts=hosts() + chroot, timeout=10.0, **kwargs)
    c.start(timeout=WAIT)
    return c


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
