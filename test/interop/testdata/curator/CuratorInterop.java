import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * Drives a ZooKeeper server (address in args[0]) through Apache Curator: every
 * create mode, parents, versions, guaranteed and background deletes, transactions,
 * CuratorCache (persistent recursive watch), InterProcessMutex and LeaderLatch.
 * Prints OK and exits 0, or prints the failure and exits 1.
 */
public class CuratorInterop {
    static final long WAIT_SECONDS = 20;
    static String connect;
    static final List<CuratorFramework> clients = new ArrayList<>();

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: CuratorInterop host:port");
            System.exit(2);
        }
        connect = args[0];
        int status = 0;
        try {
            CuratorFramework c = newClient();
            createModes(c);
            parents(c);
            versions(c);
            deletes(c);
            transaction(c);
            cache(c);
            mutex();
            leaderLatch();
            for (CuratorFramework cl : clients) {
                cl.close();
            }
            System.out.println("OK");
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.exit(status); // do not wait for lingering client threads
    }

    static CuratorFramework newClient() throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(10000)
                .connectionTimeoutMs(10000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .build();
        c.start();
        check(c.blockUntilConnected((int) WAIT_SECONDS, TimeUnit.SECONDS), "no connection to " + connect);
        clients.add(c);
        return c;
    }

    static void check(boolean cond, String msg) {
        if (!cond) {
            throw new AssertionError(msg);
        }
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }

    static long session(CuratorFramework c) throws Exception {
        return c.getZookeeperClient().getZooKeeper().getSessionId();
    }

    static void step(String name) {
        System.err.println("curator: " + name + " ok");
    }

    static void createModes(CuratorFramework c) throws Exception {
        String base = "/curator/modes";
        c.create().creatingParentsIfNeeded().forPath(base);
        Stat st = new Stat();
        String p = c.create().storingStatIn(st).withMode(CreateMode.PERSISTENT).forPath(base + "/p", b("x"));
        check(p.equals(base + "/p") && st.getEphemeralOwner() == 0 && st.getDataLength() == 1, "persistent " + p + " " + st);
        p = c.create().storingStatIn(st).withMode(CreateMode.EPHEMERAL).forPath(base + "/e");
        check(p.equals(base + "/e") && st.getEphemeralOwner() == session(c), "ephemeral owner " + st.getEphemeralOwner());
        p = c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(base + "/ps-");
        check(p.equals(base + "/ps-0000000002"), "persistent sequential " + p);
        p = c.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(base + "/es-");
        check(p.equals(base + "/es-0000000003"), "ephemeral sequential " + p);
        p = c.create().withMode(CreateMode.CONTAINER).forPath(base + "/c");
        check(p.equals(base + "/c"), "container " + p);
        p = c.create().withTtl(60000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(base + "/t", b("ttl"));
        check(p.equals(base + "/t") && s(c.getData().forPath(p)).equals("ttl"), "ttl " + p);
        p = c.create().withTtl(60000).withMode(CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL).forPath(base + "/ts-");
        check(p.equals(base + "/ts-0000000006"), "sequential ttl " + p);
        p = c.create().withProtection().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(base + "/prot-");
        String name = p.substring(base.length() + 1);
        check(name.matches("_c_[0-9a-f-]{36}-prot-0000000007"), "protected name " + name);
        List<String> kids = c.getChildren().forPath(base);
        check(kids.size() == 8, "children " + kids);
        try {
            c.create().forPath(base + "/p");
            check(false, "create of an existing node succeeded");
        } catch (KeeperException.NodeExistsException expected) {
        }
        step("create modes");
    }

    static void parents(CuratorFramework c) throws Exception {
        String deep = "/curator/deep/a/b/c";
        c.create().creatingParentsIfNeeded().forPath(deep, b("leaf"));
        check(s(c.getData().forPath(deep)).equals("leaf"), "leaf data");
        check(c.checkExists().forPath("/curator/deep/a/b") != null, "parent missing");
        c.create().creatingParentContainersIfNeeded().forPath("/curator/cont/x/y");
        check(c.checkExists().forPath("/curator/cont/x/y") != null, "container parents");
        c.delete().deletingChildrenIfNeeded().forPath("/curator/deep");
        check(c.checkExists().forPath("/curator/deep") == null, "deletingChildrenIfNeeded");
        step("parents");
    }

    static void versions(CuratorFramework c) throws Exception {
        String p = "/curator/versions";
        c.create().forPath(p, b("v0"));
        Stat st = c.setData().withVersion(0).forPath(p, b("v1"));
        check(st.getVersion() == 1, "version after setData " + st.getVersion());
        try {
            c.setData().withVersion(0).forPath(p, b("v2"));
            check(false, "stale setData succeeded");
        } catch (KeeperException.BadVersionException expected) {
        }
        Stat read = new Stat();
        check(s(c.getData().storingStatIn(read).forPath(p)).equals("v1") && read.getVersion() == 1, "data after bad version");
        try {
            c.delete().withVersion(0).forPath(p);
            check(false, "stale delete succeeded");
        } catch (KeeperException.BadVersionException expected) {
        }
        c.delete().withVersion(1).forPath(p);
        step("versions");
    }

    static void deletes(CuratorFramework c) throws Exception {
        String p = "/curator/del";
        c.create().forPath(p);
        c.delete().guaranteed().forPath(p);
        check(c.checkExists().forPath(p) == null, "guaranteed delete");

        c.create().forPath(p);
        BlockingQueue<CuratorEvent> done = new LinkedBlockingQueue<>();
        c.delete().inBackground((client, event) -> done.add(event)).forPath(p);
        CuratorEvent ev = done.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        check(ev != null && ev.getType() == CuratorEventType.DELETE && ev.getResultCode() == 0 && ev.getPath().equals(p),
                "background delete event " + ev);
        check(c.checkExists().forPath(p) == null, "background delete");
        c.delete().inBackground((client, event) -> done.add(event)).forPath(p);
        ev = done.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        check(ev != null && ev.getResultCode() == KeeperException.Code.NONODE.intValue(), "background delete of missing node " + ev);
        step("deletes");
    }

    static void transaction(CuratorFramework c) throws Exception {
        String p = "/curator/txn";
        List<CuratorTransactionResult> res = c.transaction().forOperations(
                c.transactionOp().create().forPath(p, b("a")),
                c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(p + "/s-"),
                c.transactionOp().setData().withVersion(0).forPath(p, b("b")),
                c.transactionOp().check().withVersion(1).forPath(p));
        check(res.size() == 4 && res.get(1).getResultPath().equals(p + "/s-0000000000")
                && res.get(2).getResultStat().getVersion() == 1, "transaction results " + res);
        try {
            c.transaction().forOperations(
                    c.transactionOp().create().forPath(p + "/x"),
                    c.transactionOp().delete().withVersion(5).forPath(p + "/s-0000000000"));
            check(false, "failing transaction succeeded");
        } catch (KeeperException.BadVersionException expected) {
        }
        check(c.checkExists().forPath(p + "/x") == null, "failed transaction was applied");
        step("transaction");
    }

    static void cache(CuratorFramework c) throws Exception {
        String base = "/curator/cache";
        c.create().forPath(base, b("root"));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CountDownLatch initialized = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(c, base);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(n -> events.add("CREATED " + n.getPath() + " " + s(n.getData())))
                .forChanges((old, n) -> events.add("CHANGED " + n.getPath() + " " + s(old.getData()) + "->" + s(n.getData())))
                .forDeletes(old -> events.add("DELETED " + old.getPath()))
                .forInitialized(initialized::countDown)
                .build());
        cache.start();
        check(initialized.await(WAIT_SECONDS, TimeUnit.SECONDS), "cache not initialized");
        expectEvent(events, "CREATED " + base + " root");

        c.create().forPath(base + "/a", b("1"));
        expectEvent(events, "CREATED " + base + "/a 1");
        c.create().forPath(base + "/a/b", b("2"));
        expectEvent(events, "CREATED " + base + "/a/b 2");
        c.setData().forPath(base + "/a", b("3"));
        expectEvent(events, "CHANGED " + base + "/a 1->3");
        c.setData().forPath(base + "/a/b", b("4"));
        expectEvent(events, "CHANGED " + base + "/a/b 2->4");
        c.delete().forPath(base + "/a/b");
        expectEvent(events, "DELETED " + base + "/a/b");
        c.delete().forPath(base + "/a");
        expectEvent(events, "DELETED " + base + "/a");
        check(cache.get(base + "/a").isEmpty() && s(cache.get(base).get().getData()).equals("root"), "cache contents");
        cache.close();
        step("CuratorCache");
    }

    static void expectEvent(BlockingQueue<String> events, String want) throws InterruptedException {
        String got = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        check(want.equals(got), "cache event " + got + ", want " + want);
    }

    static void mutex() throws Exception {
        String path = "/curator/mutex";
        int nClients = 4;
        int rounds = 10;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        AtomicInteger total = new AtomicInteger();
        AtomicReference<String> lockNode = new AtomicReference<>();
        ExecutorService pool = Executors.newFixedThreadPool(nClients);
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < nClients; i++) {
            CuratorFramework c = newClient();
            InterProcessMutex m = new InterProcessMutex(c, path);
            futures.add(pool.submit(() -> {
                for (int r = 0; r < rounds; r++) {
                    check(m.acquire(WAIT_SECONDS, TimeUnit.SECONDS), "mutex not acquired");
                    try {
                        check(m.acquire(WAIT_SECONDS, TimeUnit.SECONDS), "mutex not reentrant");
                        m.release();
                        int n = inside.incrementAndGet();
                        maxInside.accumulateAndGet(n, Math::max);
                        List<String> kids = c.getChildren().forPath(path);
                        if (!kids.isEmpty()) {
                            lockNode.set(kids.get(0));
                        }
                        Thread.sleep(2);
                        total.incrementAndGet();
                        inside.decrementAndGet();
                    } finally {
                        m.release();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(WAIT_SECONDS * 3, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        check(maxInside.get() == 1, maxInside.get() + " holders at once");
        check(total.get() == nClients * rounds, "rounds " + total.get());
        String n = lockNode.get();
        check(n != null && n.matches("_c_[0-9a-f-]{36}-lock-\\d{10}"), "lock node name " + n);
        step("InterProcessMutex");
    }

    static void leaderLatch() throws Exception {
        String path = "/curator/latch";
        List<LeaderLatch> latches = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            LeaderLatch l = new LeaderLatch(newClient(), path, "L" + i);
            l.start();
            latches.add(l);
        }
        LeaderLatch first = awaitOneLeader(latches);
        latches.remove(first);
        first.close();
        LeaderLatch second = awaitOneLeader(latches);
        check(second != first, "leadership not handed over");
        for (LeaderLatch l : latches) {
            l.close();
        }
        step("LeaderLatch");
    }

    /** Waits until exactly one latch leads and every latch names it as the leader. */
    static LeaderLatch awaitOneLeader(List<LeaderLatch> latches) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        String last = "";
        while (System.nanoTime() < deadline) {
            LeaderLatch leader = null;
            int leaders = 0;
            for (LeaderLatch l : latches) {
                if (l.hasLeadership()) {
                    leaders++;
                    leader = l;
                }
            }
            check(leaders <= 1, leaders + " leaders at once");
            if (leader != null) {
                boolean agreed = true;
                for (LeaderLatch l : latches) {
                    agreed &= l.getLeader().getId().equals(leader.getId());
                }
                if (agreed) {
                    return leader;
                }
            }
            last = "leaders=" + leaders;
            Thread.sleep(20);
        }
        throw new AssertionError("no single agreed leader: " + last);
    }
}
