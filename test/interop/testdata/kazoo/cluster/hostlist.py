"""A client given an ensemble's host list (KazooClient(hosts="a,b,c"))
outlives the death of the server it is on: it moves to another server with
its session, its ephemeral and its DataWatch (which sees a change made while
it moved), and writes again. The server comes back with what it missed."""
from _common import Recorder, check, connect, control, hosts, session
from kazoo.protocol.states import KazooState

ROOT = "/kazoo-hostlist"
servers = hosts().split(",")
check(len(servers) == 3, "want the host list of a 3-server ensemble, got %r", hosts())
c = connect()
states = Recorder()
c.add_listener(states.add)
c.create(ROOT + "/e", b"", ephemeral=True, makepath=True)
sid = c.client_id[0]
# kazoo drops one-shot watches when a connection is lost (their callbacks get
# a NONE event); its DataWatch sets its watch again on the new connection.
seen = Recorder()
c.DataWatch(ROOT + "/gap", lambda data, stat: seen.add(data))
seen.wait_for(lambda v: v == [None], "the DataWatch on the missing gap node")

killed = control("kill-server-of " + session(c))
other = connect()  # on one of the two others
other.create(ROOT + "/gap", b"made while c moves")
seen.wait_for(lambda v: v[-1] == b"made while c moves", "the DataWatch to see the gap node")
got = states.wait_for(lambda v: KazooState.CONNECTED in v, "the reconnection")
check(got[0] == KazooState.SUSPENDED and KazooState.LOST not in got, "connection states %r", got)
check(c.client_id[0] == sid, "session 0x%x after the failover, want 0x%x", c.client_id[0], sid)
st = c.exists(ROOT + "/e")
check(st is not None and st.ephemeralOwner == sid, "ephemeral after the failover: %r", st)
c.set(ROOT, b"written after the failover")
now = control("server-of " + session(c))
check(now != killed, "on server %s, which was killed", now)

control("restore")
back = connect(server=servers[int(killed) - 1])
back.sync(ROOT)
check(back.get(ROOT)[0] == b"written after the failover", "restarted server reads %r", back.get(ROOT))
st = back.exists(ROOT + "/e")
check(st is not None and st.ephemeralOwner == sid, "ephemeral on the restarted server: %r", st)
c.stop()
c.close()
back.sync(ROOT)
check(back.exists(ROOT + "/e") is None, "ephemeral outlived its session")
back.delete(ROOT, recursive=True)
for cl in (other, back):
    cl.stop()
print("OK")
