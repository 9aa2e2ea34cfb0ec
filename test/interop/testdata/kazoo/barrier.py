import threading

from _common import WAIT, check, connect, wait

ROOT = "/kazoo-barrier"
a, b = connect(), connect()

bar_a, bar_b = a.Barrier(ROOT), b.Barrier(ROOT)
check(bar_b.wait(timeout=0.1), "no barrier must not block")
bar_a.create()
b.sync(ROOT)  # in an ensemble, b's server may not have applied a's create yet
check(not bar_b.wait(timeout=0.3), "wait returned while the barrier stands")
passed = threading.Event()
th = threading.Thread(target=lambda: bar_b.wait(timeout=WAIT) and passed.set())
th.start()
bar_a.remove()
wait(passed, "waiter to pass the removed barrier")
th.join()

# Double barrier: nobody passes enter() until all three arrived.
clients = [a, b, connect()]
entered = []
lock = threading.Lock()


def party(i, cl):
    db = cl.DoubleBarrier(ROOT + "-double", 3, identifier="p%d" % i)
    db.enter()
    with lock:
        entered.append(i)
    db.leave()


threads = []
for i, cl in enumerate(clients):
    th = threading.Thread(target=party, args=(i, cl))
    th.start()
    threads.append(th)
    if i < 2:
        th.join(0.3)
        with lock:
            check(not entered, "entered before all parties arrived: %r", entered)
for th in threads:
    th.join(WAIT)
    check(not th.is_alive(), "double barrier stuck")
check(sorted(entered) == [0, 1, 2], "entered %r", entered)
for cl in clients:
    cl.stop()
print("OK")
