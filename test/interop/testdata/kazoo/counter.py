import threading

from _common import WAIT, check, connect

ROOT = "/kazoo-counter"
a, b = connect(), connect()
ca, cb = a.Counter(ROOT), b.Counter(ROOT)
check(ca.value == 0, "initial value %r", ca.value)
ca += 5
b.sync(ROOT)  # in an ensemble, catch up with a's write before reading it
check(cb.value == 5, "other client sees %r", cb.value)
cb -= 2
a.sync(ROOT)
check(ca.value == 3, "after decrement %r", ca.value)


def bump(counter):
    for _ in range(20):
        counter += 1


threads = [threading.Thread(target=bump, args=(c,)) for c in (a.Counter(ROOT), b.Counter(ROOT), a.Counter(ROOT))]
for th in threads:
    th.start()
for th in threads:
    th.join(WAIT * 2)
a.sync(ROOT)
check(ca.value == 63, "after 60 concurrent increments %r", ca.value)

f = a.Counter(ROOT + "-float", default=0.0)
f += 2.5
b.sync(ROOT + "-float")
check(b.Counter(ROOT + "-float", default=0.0).value == 2.5, "float counter")
a.stop()
b.stop()
print("OK")
