import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.atomic.PromotedToLock;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.SharedCountReader;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;

/**
 * Curator 5 barriers, counters and queues driven line by line on stdin by
 * the Go interop test (coord_curator_test.go), against the server at
 * args[0], on one Curator client. Each command answers one line:
 *
 *   atomic PATH N LOCK       -> DONE p1,p2,...  (N DistributedAtomicLong increments,
 *                               each retried until it succeeds; the post values.
 *                               LOCK is the PromotedToLock path, or - for none)
 *   countstart PATH          -> HELD            (a SharedCount seeded 0, with a listener)
 *   countset PATH N          -> DONE            (setCount on it)
 *   countawait PATH N        -> DONE N | FAIL   (wait until its listener was told N)
 *   countget PATH            -> DONE N          (getCount)
 *   dbarrier PATH QTY        -> DONE | FAIL     (one DistributedDoubleBarrier member:
 *                               enter, then leave)
 *   passed PATH              -> DONE N          (members of PATH that passed enter)
 *   bset PATH | bremove PATH -> DONE            (DistributedBarrier)
 *   bwait PATH               -> DONE            (waitOnBarrier)
 *   qoffer PATH ITEM...      -> DONE            (SimpleDistributedQueue.offer)
 *   qtake PATH K             -> DONE i1,i2,...  (K takes)
 *   async ID COMMAND...      -> HELD            (run COMMAND in a thread of its own)
 *   poll ID                  -> DONE pending, or COMMAND's answer once it is done
 *   join ID                  -> COMMAND's answer, once it is done
 *   quit
 */
public class CoordAgent {
    static CuratorFramework client;
    static final Map<String, SharedCount> counts = new ConcurrentHashMap<>();
    static final Map<String, List<Integer>> heard = new ConcurrentHashMap<>();
    static final Map<String, AtomicInteger> passed = new ConcurrentHashMap<>();
    static final Map<String, Future<String>> jobs = new ConcurrentHashMap<>();
    static final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r);
        t.setDaemon(true);
        return t;
    });

    public static void main(String[] args) throws Exception {
        client = CuratorFrameworkFactory.builder()
                .connectString(args[0])
                .sessionTimeoutMs(20000)
                .connectionTimeoutMs(15000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .build();
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("no connection to " + args[0]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("READY");
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split(" ");
            if (f[0].equals("quit")) break;
            System.out.println(answer(f));
        }
        for (SharedCount sc : counts.values()) sc.close();
        client.close();
        System.exit(0);
    }

    static String answer(String[] f) {
        try {
            return run(f);
        } catch (Throwable t) {
            return "FAIL " + t.toString().replace('\n', ' ');
        }
    }

    static String run(String[] f) throws Exception {
        switch (f[0]) {
            case "async": {
                String[] cmd = Arrays.copyOfRange(f, 2, f.length);
                jobs.put(f[1], pool.submit(() -> answer(cmd)));
                return "HELD";
            }
            case "poll": {
                Future<String> job = jobs.get(f[1]);
                if (!job.isDone()) return "DONE pending";
                jobs.remove(f[1]);
                return job.get();
            }
            case "join":
                return jobs.remove(f[1]).get(5, TimeUnit.MINUTES);
            case "atomic": {
                DistributedAtomicLong dal = f[3].equals("-")
                        ? new DistributedAtomicLong(client, f[1], new RetryNTimes(1000, 1))
                        : new DistributedAtomicLong(client, f[1], new RetryNTimes(0, 0),
                                PromotedToLock.builder().lockPath(f[3]).retryPolicy(new RetryNTimes(1000, 1)).build());
                List<String> posts = new ArrayList<>();
                for (int i = 0; i < Integer.parseInt(f[2]); i++) {
                    AtomicValue<Long> v = dal.increment();
                    while (!v.succeeded()) v = dal.increment();
                    posts.add(Long.toString(v.postValue()));
                }
                return "DONE " + String.join(",", posts);
            }
            case "countstart": {
                SharedCount sc = new SharedCount(client, f[1], 0);
                List<Integer> got = new ArrayList<>();
                heard.put(f[1], got);
                sc.addListener(new SharedCountListener() {
                    @Override
                    public void countHasChanged(SharedCountReader r, int n) {
                        synchronized (got) {
                            got.add(n);
                            got.notifyAll();
                        }
                    }

                    @Override
                    public void stateChanged(CuratorFramework c, ConnectionState s) {}
                });
                sc.start();
                counts.put(f[1], sc);
                return "HELD";
            }
            case "countset":
                counts.get(f[1]).setCount(Integer.parseInt(f[2]));
                return "DONE";
            case "countget":
                return "DONE " + counts.get(f[1]).getCount();
            case "countawait": {
                int want = Integer.parseInt(f[2]);
                List<Integer> got = heard.get(f[1]);
                long deadline = System.currentTimeMillis() + 30_000;
                synchronized (got) {
                    while (!got.contains(want)) {
                        long left = deadline - System.currentTimeMillis();
                        if (left <= 0) return "FAIL listener heard " + got + ", not " + want;
                        got.wait(left);
                    }
                }
                return "DONE " + counts.get(f[1]).getCount();
            }
            case "dbarrier": {
                DistributedDoubleBarrier b = new DistributedDoubleBarrier(client, f[1], Integer.parseInt(f[2]));
                if (!b.enter(120, TimeUnit.SECONDS)) return "FAIL enter timed out";
                passed.computeIfAbsent(f[1], k -> new AtomicInteger()).incrementAndGet();
                if (!b.leave(120, TimeUnit.SECONDS)) return "FAIL leave timed out";
                return "DONE";
            }
            case "passed": {
                AtomicInteger n = passed.get(f[1]);
                return "DONE " + (n == null ? 0 : n.get());
            }
            case "bset":
                new DistributedBarrier(client, f[1]).setBarrier();
                return "DONE";
            case "bremove":
                new DistributedBarrier(client, f[1]).removeBarrier();
                return "DONE";
            case "bwait":
                if (!new DistributedBarrier(client, f[1]).waitOnBarrier(120, TimeUnit.SECONDS)) return "FAIL wait timed out";
                return "DONE";
            case "qoffer": {
                SimpleDistributedQueue q = new SimpleDistributedQueue(client, f[1]);
                for (int i = 2; i < f.length; i++) q.offer(f[i].getBytes(StandardCharsets.UTF_8));
                return "DONE";
            }
            case "qtake": {
                SimpleDistributedQueue q = new SimpleDistributedQueue(client, f[1]);
                List<String> items = new ArrayList<>();
                for (int i = 0; i < Integer.parseInt(f[2]); i++) {
                    byte[] item = q.poll(60, TimeUnit.SECONDS);
                    if (item == null) return "FAIL no item " + i + " within 60s after " + items;
                    items.add(new String(item, StandardCharsets.UTF_8));
                }
                return "DONE " + String.join(",", items);
            }
        }
        return "FAIL unknown command " + f[0];
    }
}
