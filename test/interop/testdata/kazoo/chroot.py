from _common import Recorder, check, connect

ROOT = "/kazoo-chroot"
plain = connect()
plain.ensure_path(ROOT)
c = connect(chroot=ROOT)

c.create("/a", b"in chroot")
plain.sync(ROOT)  # in an ensemble, catch up with c's writes before reading them
check(plain.get(ROOT + "/a")[0] == b"in chroot", "chrooted create not under the chroot")
check(sorted(c.get_children("/")) == ["a"], "chroot root children %r", c.get_children("/"))
p = c.create("/s-", sequence=True)
check(p == "/s-0000000001", "sequential path through chroot %r", p)
p = c.create("/e", ephemeral=True)
check(p == "/e", "ephemeral path %r", p)

events = Recorder()
c.get("/a", watch=events.add)
c.get_children("/", watch=events.add)
plain.set(ROOT + "/a", b"changed outside")
plain.create(ROOT + "/b")
got = events.wait_for(lambda v: len(v) >= 2, "watch events through chroot")
check(sorted((e.type, e.path) for e in got) == [("CHANGED", "/a"), ("CHILD", "/")],
      "events %r", got)

t = c.transaction()
t.create("/t1")
t.create("/t1/t2")
res = t.commit()
check(res == ["/t1", "/t1/t2"], "transaction results through chroot %r", res)
plain.sync(ROOT)
check(plain.exists(ROOT + "/t1/t2") is not None, "transaction not under chroot")

c.stop()
plain.sync(ROOT)
check(plain.exists(ROOT + "/e") is None, "ephemeral survived its session")
plain.delete(ROOT, recursive=True)
plain.stop()
print("OK")
