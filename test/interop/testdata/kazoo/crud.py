from _common import check, connect, expect
from kazoo.exceptions import (BadVersionError, NoChildrenForEphemeralsError,
                              NodeExistsError, NoNodeError, NotEmptyError)

ROOT = "/kazoo-crud"
c = connect()
check(c.create(ROOT, b"root") == ROOT, "create returned wrong path")
expect(NodeExistsError, c.create, ROOT)
expect(NoNodeError, c.create, ROOT + "/missing/x")

c.ensure_path(ROOT + "/deep/er/path")
check(c.exists(ROOT + "/deep/er/path") is not None, "ensure_path did not create")
check(c.create(ROOT + "/mk/a/b", b"v", makepath=True) == ROOT + "/mk/a/b", "makepath")

c.create(ROOT + "/a", b"v1")
data, stat = c.get(ROOT + "/a")
check(data == b"v1" and stat.version == 0 and stat.data_length == 2, "get: %r %r", data, stat)
check(stat.created == stat.last_modified and stat.czxid == stat.mzxid, "fresh stat %r", stat)

stat = c.set(ROOT + "/a", b"v2", version=0)
check(stat.version == 1, "version after set %d", stat.version)
expect(BadVersionError, c.set, ROOT + "/a", b"v3", version=0)
data, _ = c.get(ROOT + "/a")
check(data == b"v2", "data after failed set %r", data)

p = c.create(ROOT + "/seq-", b"", sequence=True)
check(p == ROOT + "/seq-0000000003", "sequential path %s", p)
e = c.create(ROOT + "/eph", b"", ephemeral=True)
check(c.exists(e).ephemeralOwner == c.client_id[0], "ephemeral owner")
expect(NoChildrenForEphemeralsError, c.create, e + "/child")

kids = sorted(c.get_children(ROOT))
check(kids == ["a", "deep", "eph", "mk", "seq-0000000003"], "children %r", kids)
kids, stat = c.get_children(ROOT, include_data=True)
check(stat.numChildren == 5, "numChildren %d", stat.numChildren)

expect(NotEmptyError, c.delete, ROOT)
expect(BadVersionError, c.delete, ROOT + "/a", version=7)
c.delete(ROOT + "/a", version=1)
check(c.exists(ROOT + "/a") is None, "deleted node exists")
expect(NoNodeError, c.get, ROOT + "/a")
expect(NoNodeError, c.delete, ROOT + "/a")

c.delete(ROOT, recursive=True)
check(c.exists(ROOT) is None, "recursive delete left the root")
c.stop()
c.close()
print("OK")
