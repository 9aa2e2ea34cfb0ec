import threading

from _common import WAIT, check, connect, wait

ROOT = "/kazoo-election"
clients = [connect() for _ in range(3)]
elections = [cl.Election(ROOT, "node-%d" % i) for i, cl in enumerate(clients)]
leading = threading.Semaphore(0)
leaders = []
release = [threading.Event() for _ in clients]
lock = threading.Lock()


def lead(i):
    with lock:
        leaders.append(i)
    leading.release()
    release[i].wait(WAIT * 3)


threads = [threading.Thread(target=e.run, args=(lead, i)) for i, e in enumerate(elections)]
for th in threads:
    th.start()

order = []
for _ in range(3):
    check(leading.acquire(timeout=WAIT), "no leader elected")
    with lock:
        check(len(leaders) == len(order) + 1, "two leaders at once: %r", leaders)
        current = leaders[-1]
    order.append(current)
    clients[0].sync(ROOT)  # see the previous leader's node gone, as the new leader did
    contenders = elections[0].contenders()
    check(contenders[0] == "node-%d" % current, "leader %d but contenders %r", current, contenders)
    release[current].set()  # step down: the next contender takes over

check(sorted(order) == [0, 1, 2], "leaders %r", order)
for th in threads:
    th.join(WAIT)
for cl in clients:
    cl.stop()
print("OK")
