"""Read-only mode (readonlymode.enabled): a server without a quorum serves
clients that accept a read-only server (KazooClient(read_only=True)) with
reads and refuses their writes; other clients get no service. Once the quorum
is back both clients are read-write again."""
from _common import Recorder, check, connect, control, eventually, expect, session
from kazoo.exceptions import NotReadOnlyCallError
from kazoo.protocol.states import KazooState, KeeperState

ROOT = "/kazoo-readonly"
rw = connect()
rw.create(ROOT, b"written with a quorum")
# An ephemeral makes rw's session global where sessions start local
# (Apache's localSessionsEnabled, which its read-only mode needs).
rw.create(ROOT + "/rw", ephemeral=True)
rw_states = Recorder()
rw.add_listener(rw_states.add)
rw_sid = rw.client_id[0]

# Keep rw's server, which applied rw's write before answering it.
kept = control("lose-quorum-keeping " + session(rw))
rw_states.wait_for(lambda v: KazooState.SUSPENDED in v, "the read-write client suspended")

ro = connect(read_only=True)
check(ro.client_state == KeeperState.CONNECTED_RO, "read-only client: %s, want CONNECTED_RO", ro.client_state)
check(ro.get(ROOT)[0] == b"written with a quorum", "read-only read %r", ro.get(ROOT))
check("kazoo-readonly" in ro.get_children("/"), "read-only children %r", ro.get_children("/"))
expect(NotReadOnlyCallError, ro.create, ROOT + "/x")
expect(NotReadOnlyCallError, ro.set, ROOT, b"x")
expect(NotReadOnlyCallError, ro.delete, ROOT)
# The server that served ro refuses rw, which asked for a read-write server.
check(rw.state == KazooState.SUSPENDED, "read-write client %s without a quorum", rw.state)

control("restore")
eventually(lambda: ro.client_state == KeeperState.CONNECTED, "the read-only client to find a read-write server")
ro.create(ROOT + "/after", b"")
rw_states.wait_for(lambda v: v[-1] == KazooState.CONNECTED, "the read-write client reconnected")
got = rw_states.wait_for(lambda v: True, "nothing")
check(KazooState.LOST not in got and rw.client_id[0] == rw_sid,
      "read-write session 0x%x (states %r), want 0x%x kept", rw.client_id[0], got, rw_sid)
rw.sync(ROOT)
check(rw.exists(ROOT + "/after") is not None, "read-write client misses the write after the quorum came back")
rw.delete(ROOT, recursive=True)
for cl in (ro, rw):
    cl.stop()
print("OK")
