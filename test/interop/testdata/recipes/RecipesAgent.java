import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * A Curator 5 contender driven line by line on stdin by the Go interop test
 * (recipes_curator_test.go), against the server at args[0]. Each command
 * answers one line (the ticket sale also prints its sales first):
 *
 *   acquire KIND PATH        -> HELD            (wait for the lock)
 *   try KIND PATH            -> ACQUIRED|LOCKED (acquire with no wait)
 *   release KIND PATH        -> RELEASED
 *   participants KIND PATH   -> PARTICIPANTS a,b,...
 *   contend KIND PATH BASE N -> DONE | FAIL message   (N rounds on a new session)
 *   tickets LOCK COUNT N     -> "java-seller-<i> sold ticket <n>" lines, then DONE
 *   latch PATH ID HOLDMS     -> "ID leader <ns>", "ID released <ns>", then DONE
 *                               (examples/leader with a LeaderLatch, on a new session)
 *   latchjoin PATH ID        -> HELD once the LeaderLatch started (it stays in)
 *   latchleave PATH ID       -> RELEASED (closes that latch)
 *   count PATH N             -> DONE (a SharedCount at PATH, seeded, then set to N)
 *   bench PATH N             -> DONE <acquisitions per second> (N uncontended
 *                               InterProcessMutex acquire/release, after a warm-up)
 *   quit
 *
 * KIND is mutex, semmutex, read, write (InterProcessReadWriteLock) or semN
 * (InterProcessSemaphoreV2 with N leases). contend proves exclusion with the
 * same ZooKeeper-side check as the Go contenders (see occupy).
 */
public class RecipesAgent {
    static String connect;
    static final List<CuratorFramework> clients = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        connect = args[0];
        CuratorFramework c = newClient();
        Map<String, Object> locks = new HashMap<>();   // KIND PATH -> lock object
        Map<String, Lease> leases = new HashMap<>();   // KIND PATH -> lease held
        Map<String, LeaderLatch> latches = new HashMap<>(); // PATH ID -> latch
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("READY");
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split(" ");
            try {
                switch (f[0]) {
                    case "quit":
                        for (CuratorFramework cl : clients) cl.close();
                        System.exit(0);
                    case "acquire":
                    case "try": {
                        String key = f[1] + " " + f[2];
                        Object l = locks.computeIfAbsent(key, k -> newLock(c, f[1], f[2]));
                        long wait = f[0].equals("try") ? 0 : 60_000;
                        boolean ok;
                        if (l instanceof InterProcessSemaphoreV2) {
                            Lease lease = ((InterProcessSemaphoreV2) l).acquire(wait, TimeUnit.MILLISECONDS);
                            ok = lease != null;
                            if (ok) leases.put(key, lease);
                        } else {
                            ok = ((InterProcessLock) l).acquire(wait, TimeUnit.MILLISECONDS);
                        }
                        System.out.println(f[0].equals("try") ? (ok ? "ACQUIRED" : "LOCKED") : (ok ? "HELD" : "FAIL timeout"));
                        break;
                    }
                    case "release": {
                        String key = f[1] + " " + f[2];
                        Object l = locks.get(key);
                        if (l instanceof InterProcessSemaphoreV2) {
                            leases.remove(key).close();
                        } else {
                            ((InterProcessLock) l).release();
                        }
                        System.out.println("RELEASED");
                        break;
                    }
                    case "participants": {
                        Object l = locks.computeIfAbsent(f[1] + " " + f[2], k -> newLock(c, f[1], f[2]));
                        Iterable<String> p;
                        if (l instanceof InterProcessMutex) p = ((InterProcessMutex) l).getParticipantNodes();
                        else p = ((InterProcessSemaphoreV2) l).getParticipantNodes();
                        System.out.println("PARTICIPANTS " + String.join(",", p));
                        break;
                    }
                    case "contend":
                        contend(f[1], f[2], f[3], Integer.parseInt(f[4]));
                        System.out.println("DONE");
                        break;
                    case "latch":
                        latch(f[1], f[2], Long.parseLong(f[3]));
                        System.out.println("DONE");
                        break;
                    case "latchjoin": {
                        LeaderLatch l = new LeaderLatch(c, f[1], f[2]);
                        l.start();
                        latches.put(f[1] + " " + f[2], l);
                        System.out.println("HELD");
                        break;
                    }
                    case "latchleave":
                        latches.remove(f[1] + " " + f[2]).close();
                        System.out.println("RELEASED");
                        break;
                    case "count": {
                        SharedCount sc = new SharedCount(c, f[1], 0);
                        sc.start();
                        sc.setCount(Integer.parseInt(f[2]));
                        sc.close();
                        System.out.println("DONE");
                        break;
                    }
                    case "bench": {
                        InterProcessMutex m = new InterProcessMutex(c, f[1]);
                        int n = Integer.parseInt(f[2]);
                        for (int i = 0; i < n / 5; i++) { m.acquire(); m.release(); } // JIT warm-up
                        long start = System.nanoTime();
                        for (int i = 0; i < n; i++) { m.acquire(); m.release(); }
                        double secs = (System.nanoTime() - start) / 1e9;
                        System.out.println("DONE " + (long) (n / secs));
                        break;
                    }
                    case "tickets":
                        tickets(f[1], f[2], Integer.parseInt(f[3]));
                        System.out.println("DONE");
                        break;
                    default:
                        System.out.println("FAIL unknown command " + f[0]);
                }
            } catch (Throwable t) {
                System.out.println("FAIL " + t.toString().replace('\n', ' '));
            }
        }
    }

    static CuratorFramework newClient() throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(20000)
                .connectionTimeoutMs(15000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .build();
        c.start();
        if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("no connection to " + connect);
        synchronized (clients) {
            clients.add(c);
        }
        return c;
    }

    static Object newLock(CuratorFramework c, String kind, String path) {
        switch (kind) {
            case "mutex": return new InterProcessMutex(c, path);
            case "semmutex": return new InterProcessSemaphoreMutex(c, path);
            case "read": return new InterProcessReadWriteLock(c, path).readLock();
            case "write": return new InterProcessReadWriteLock(c, path).writeLock();
        }
        if (kind.startsWith("sem")) return new InterProcessSemaphoreV2(c, path, Integer.parseInt(kind.substring(3)));
        throw new IllegalArgumentException("kind " + kind);
    }

    /**
     * rounds of acquire, occupy, release on a session of its own. For rw the
     * rounds alternate between the write and the read lock.
     */
    static void contend(String kind, String path, String base, int rounds) throws Exception {
        CuratorFramework c = newClient();
        InterProcessReadWriteLock rw = kind.equals("rw") ? new InterProcessReadWriteLock(c, path) : null;
        Object lock = rw == null ? newLock(c, kind, path) : null;
        for (int i = 0; i < rounds; i++) {
            String k = kind;
            Object l = lock;
            if (rw != null) {
                k = i % 2 == 0 ? "write" : "read";
                l = i % 2 == 0 ? rw.writeLock() : rw.readLock();
            }
            Lease lease = null;
            if (l instanceof InterProcessSemaphoreV2) lease = ((InterProcessSemaphoreV2) l).acquire();
            else ((InterProcessLock) l).acquire();
            try {
                occupy(c, k, base);
            } finally {
                if (lease != null) lease.close();
                else ((InterProcessLock) l).release();
            }
        }
    }

    /**
     * The exclusion check Go's contenders make too. Exclusive holders
     * (mutex, semmutex, write) create BASE/occ, which fails if another
     * exclusive holder is inside, see that BASE/readers is empty, and add
     * one to BASE/counter (version -1: the lock is the only protection).
     * Readers register under BASE/readers and see no BASE/occ. Semaphore
     * holders register under BASE/holders and count at most N.
     */
    static void occupy(CuratorFramework c, String kind, String base) throws Exception {
        if (kind.equals("read")) {
            String me = c.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(base + "/readers/r-", new byte[0]);
            if (c.checkExists().forPath(base + "/occ") != null) throw new IllegalStateException("OVERLAP reader with a writer");
            c.delete().forPath(me);
        } else if (kind.startsWith("sem") && !kind.equals("semmutex")) {
            int n = Integer.parseInt(kind.substring(3));
            String me = c.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(base + "/holders/h-", new byte[0]);
            int holders = c.getChildren().forPath(base + "/holders").size();
            if (holders > n) throw new IllegalStateException("OVERLAP " + holders + " holders of " + n + " leases");
            c.delete().forPath(me);
        } else {
            try {
                c.create().withMode(CreateMode.EPHEMERAL).forPath(base + "/occ", new byte[0]);
            } catch (KeeperException.NodeExistsException e) {
                throw new IllegalStateException("OVERLAP two exclusive holders");
            }
            if (!c.getChildren().forPath(base + "/readers").isEmpty()) throw new IllegalStateException("OVERLAP writer with readers");
            int v = Integer.parseInt(new String(c.getData().forPath(base + "/counter"), StandardCharsets.UTF_8));
            c.setData().forPath(base + "/counter", Integer.toString(v + 1).getBytes(StandardCharsets.UTF_8));
            c.delete().forPath(base + "/occ");
        }
    }

    /** examples/leader with a Curator LeaderLatch on a session of its own. */
    static void latch(String path, String id, long holdMs) throws Exception {
        CuratorFramework c = newClient();
        LeaderLatch l = new LeaderLatch(c, path, id);
        l.start();
        l.await();
        System.out.println(id + " leader " + nowNanos());
        Thread.sleep(holdMs);
        if (!l.hasLeadership()) throw new IllegalStateException("leadership lost during the hold");
        System.out.println(id + " released " + nowNanos());
        l.close();
        c.close();
    }

    static long nowNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** The ticket sale of examples/ticketsale, with n Curator sellers. */
    static void tickets(String lockPath, String countPath, int n) throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            final String name = "java-seller-" + i;
            Thread t = new Thread(() -> {
                try {
                    CuratorFramework c = newClient();
                    InterProcessMutex m = new InterProcessMutex(c, lockPath);
                    while (true) {
                        m.acquire();
                        int left;
                        try {
                            left = Integer.parseInt(new String(c.getData().forPath(countPath), StandardCharsets.UTF_8).trim());
                            if (left > 0) {
                                c.setData().withVersion(-1).forPath(countPath, Integer.toString(left - 1).getBytes(StandardCharsets.UTF_8));
                                synchronized (System.out) {
                                    System.out.println(name + " sold ticket " + left);
                                }
                            }
                        } finally {
                            m.release();
                        }
                        if (left == 0) return;
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) t.join();
        if (!errors.isEmpty()) throw new Exception(errors.get(0));
    }
}
