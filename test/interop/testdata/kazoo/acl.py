from _common import check, connect, expect
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, ANYONE_ID_UNSAFE, OPEN_ACL_UNSAFE, Permissions, make_digest_acl

ROOT = "/kazoo-acl"
alice = connect(auth_data=[("digest", "alice:secret")])
anon = connect()
bob = connect()
bob.add_auth("digest", "bob:pw")
super_ = connect(auth_data=[("digest", "super:test")])

alice.create(ROOT, acl=OPEN_ACL_UNSAFE)
private = ROOT + "/private"
acl = make_digest_acl("alice", "secret", all=True)
alice.create(private, b"s", acl=[acl])
got, _ = alice.get_acls(private)
check(len(got) == 1 and got[0].id.scheme == "digest" and got[0].id.id == acl.id.id and got[0].perms == 31,
      "acl %r, want %r", got, acl)

for who in (anon, bob):
    who.sync(ROOT)  # in an ensemble, catch up with alice's writes first
    expect(NoAuthError, who.get, private)
    expect(NoAuthError, who.set, private, b"x")
    expect(NoAuthError, who.get_children, private)
    expect(NoAuthError, who.create, private + "/c")
    check(who.exists(private) is not None, "exists needs no permission")

check(alice.get(private)[0] == b"s", "owner read")
super_.set(private, b"t")
check(super_.get(private)[0] == b"t", "super read")

# All for alice, read-only for the world.
ro = ROOT + "/ro"
alice.create(ro, b"r", acl=[make_digest_acl("alice", "secret", all=True)])
anon.sync(ROOT)
expect(NoAuthError, anon.get, ro)
alice.set_acls(ro, [make_digest_acl("alice", "secret", all=True), ACL(Permissions.READ, ANYONE_ID_UNSAFE)])
anon.sync(ROOT)
check(anon.get(ro)[0] == b"r", "world read")
expect(NoAuthError, anon.set, ro, b"w")
check(alice.get_acls(ro)[1].aversion == 1, "aversion after set_acls")
alice.set(ro, b"w")

super_.sync(ROOT)  # the recursive delete lists the children first
super_.delete(ROOT, recursive=True)
for cl in (alice, anon, bob, super_):
    cl.stop()
print("OK")
