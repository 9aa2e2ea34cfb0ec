import threading

from _common import WAIT, check, connect, expect, wait
from kazoo.exceptions import LockTimeout

ROOT = "/kazoo-lock"
a, b = connect(), connect()
la = a.Lock(ROOT, "client-a")
lb = b.Lock(ROOT, "client-b")

check(la.acquire(timeout=WAIT), "a could not take the free lock")
check(not lb.acquire(blocking=False), "b took a held lock")
expect(LockTimeout, lb.acquire, timeout=0.3)

got_it = threading.Event()


def contend():
    lb.acquire(timeout=WAIT)
    got_it.set()


th = threading.Thread(target=contend)
th.start()
contenders = []
for _ in range(200):  # wait until b queues behind a
    contenders = la.contenders()
    if len(contenders) == 2:
        break
    threading.Event().wait(0.05)
check(contenders == ["client-a", "client-b"], "contenders %r", contenders)
check(not got_it.is_set(), "b entered while a held the lock")
la.release()
wait(got_it, "b to get the lock after a released it")
th.join()
check(lb.is_acquired, "b does not hold the lock")

# Mutual exclusion under contention: several threads per client.
inside = [0]
maximum = [0]
guard = threading.Lock()


def worker(client, ident):
    lock = client.Lock(ROOT + "-mx", ident)
    for _ in range(5):
        with lock:
            with guard:
                inside[0] += 1
                maximum[0] = max(maximum[0], inside[0])
            threading.Event().wait(0.005)
            with guard:
                inside[0] -= 1


threads = [threading.Thread(target=worker, args=(cl, "w%d" % i)) for i, cl in enumerate([a, b, a, b])]
for th in threads:
    th.start()
for th in threads:
    th.join(WAIT * 2)
    check(not th.is_alive(), "lock worker stuck")
check(maximum[0] == 1, "%d holders at once", maximum[0])

lb.release()
# An ephemeral lock node vanishes with its session.
lb.acquire(timeout=WAIT)
b.stop()
check(la.acquire(timeout=WAIT), "lock not freed when its holder's session closed")
la.release()
a.stop()
print("OK")
