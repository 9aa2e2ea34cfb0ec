import threading

from _common import WAIT, check, connect

ROOT = "/kazoo-queue"
a, b = connect(), connect()

q = a.Queue(ROOT)
for v in (b"one", b"two", b"three"):
    q.put(v)
q.put(b"urgent", priority=1)
check(len(q) == 4, "queue length %d", len(q))
qb = b.Queue(ROOT)
b.sync(ROOT)  # in an ensemble, catch up with a's puts before taking them
got = [qb.get() for _ in range(4)]
check(got == [b"urgent", b"one", b"two", b"three"], "queue order %r", got)
check(qb.get() is None, "empty queue returned an item")

# LockingQueue: an item is only removed once its consumer says so.
lq = a.LockingQueue(ROOT + "-locking")
lq.put(b"job-1")
lq.put(b"job-2")
lqb = b.LockingQueue(ROOT + "-locking")
check(lqb.get(timeout=WAIT) == b"job-1", "first job")
check(lqb.consume(), "consume")
check(lqb.get(timeout=WAIT) == b"job-2", "second job")
check(lqb.holds_lock(), "holds lock")
check(lqb.release(), "release")
check(lqb.get(timeout=WAIT) == b"job-2", "released job comes back")
check(lqb.consume(), "consume again")
a.sync(ROOT + "-locking")
check(len(lq) == 0, "locking queue not empty: %d", len(lq))

# A blocked get wakes up when an item arrives.
out = []
th = threading.Thread(target=lambda: out.append(lqb.get(timeout=WAIT)))
th.start()
th.join(0.2)
lq.put(b"late")
th.join(WAIT)
check(out == [b"late"], "blocked get returned %r", out)
a.stop()
b.stop()
print("OK")
