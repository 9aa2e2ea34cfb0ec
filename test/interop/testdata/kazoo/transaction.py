from _common import check, connect
from kazoo.exceptions import BadVersionError, NoNodeError, RolledBackError, RuntimeInconsistency

ROOT = "/kazoo-txn"
c = connect()
c.create(ROOT)

t = c.transaction()
t.create(ROOT + "/a", b"1")
t.create(ROOT + "/a/b", b"2")
t.set_data(ROOT + "/a", b"3", version=0)
t.check(ROOT + "/a", 1)
t.create(ROOT + "/s-", sequence=True)
t.delete(ROOT + "/a/b")
res = t.commit()
check(res[0] == ROOT + "/a" and res[1] == ROOT + "/a/b", "create results %r", res)
check(res[2].version == 1 and res[3] is True and res[5] is True, "results %r", res)
check(res[4] == ROOT + "/s-0000000001", "sequential result %r", res[4])
data, stat = c.get(ROOT + "/a")
check(data == b"3" and stat.numChildren == 0, "after commit %r %r", data, stat)

# Failure: nothing applied; ops before the failing one report RolledBackError,
# the failing op its own error, the ops after it RuntimeInconsistency.
t = c.transaction()
t.create(ROOT + "/x")
t.check(ROOT + "/a", 0)
t.delete(ROOT + "/a")
res = t.commit()
check(isinstance(res[0], RolledBackError) and isinstance(res[1], BadVersionError) and
      isinstance(res[2], RuntimeInconsistency), "failed txn results %r", res)
check(c.exists(ROOT + "/x") is None and c.exists(ROOT + "/a") is not None, "failed txn applied")

# A single failing op.
t = c.transaction()
t.set_data(ROOT + "/missing", b"")
res = t.commit()
check(len(res) == 1 and isinstance(res[0], NoNodeError), "single op results %r", res)

with c.transaction() as t:  # commits on exit
    t.delete(ROOT + "/a", version=1)
check(t.committed and c.exists(ROOT + "/a") is None, "context manager did not commit")

c.delete(ROOT, recursive=True)
c.stop()
c.close()
print("OK")
