from _common import Recorder, check, connect

ROOT = "/kazoo-watches"
c = connect()
c.create(ROOT + "/d", b"0", makepath=True)

# DataWatch: called at once with the current data, then on every change,
# and with (None, None) when the node is deleted.
data = Recorder()


@c.DataWatch(ROOT + "/d")
def on_data(value, stat, event=None):
    data.add((value, stat.version if stat else None, event.type if event else None))
    return value is not None  # False stops the watch after the delete


data.wait_for(lambda v: len(v) >= 1, "initial data")
c.set(ROOT + "/d", b"1")
data.wait_for(lambda v: len(v) >= 2, "first change")
c.set(ROOT + "/d", b"2")
data.wait_for(lambda v: len(v) >= 3, "second change")
c.delete(ROOT + "/d")
got = data.wait_for(lambda v: len(v) >= 4, "delete")
want = [(b"0", 0, None), (b"1", 1, "CHANGED"), (b"2", 2, "CHANGED"), (None, None, "DELETED")]
check(got == want, "DataWatch calls %r, want %r", got, want)

# DataWatch on a missing node sees its creation.
late = Recorder()
c.DataWatch(ROOT + "/late", lambda value, stat: late.add(value))
late.wait_for(lambda v: v == [None], "missing node")
c.create(ROOT + "/late", b"here")
late.wait_for(lambda v: v == [None, b"here"], "created node")

# ChildrenWatch: the current children, then the list after every change.
kids = Recorder()
c.ChildrenWatch(ROOT, lambda children: kids.add(sorted(children)))
kids.wait_for(lambda v: v and v[-1] == ["late"], "initial children")
c.create(ROOT + "/x")
kids.wait_for(lambda v: v[-1] == ["late", "x"], "added child")
c.set(ROOT + "/x", b"data changes do not matter")
c.delete(ROOT + "/late")
got = kids.wait_for(lambda v: v[-1] == ["x"], "removed child")
check(got == [["late"], ["late", "x"], ["x"]], "ChildrenWatch calls %r", got)

# A raw one-shot watch fires once.
events = Recorder()
c.get(ROOT + "/x", watch=events.add)
c.set(ROOT + "/x", b"a")
c.set(ROOT + "/x", b"b")
c.exists(ROOT + "/sentinel", watch=events.add)
c.create(ROOT + "/sentinel")
got = events.wait_for(lambda v: len(v) >= 2, "sentinel")
check([(e.type, e.path) for e in got] == [("CHANGED", ROOT + "/x"), ("CREATED", ROOT + "/sentinel")],
      "one-shot events %r", got)

c.delete(ROOT, recursive=True)
c.stop()
c.close()
print("OK")
