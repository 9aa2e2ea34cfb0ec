// LockBench measures Apache Curator's lock and leader recipes the way
// zkbench's lock and leader workloads measure zkgo's (cmd/zkbench/recipe.go),
// so that scripts/bench-locks-vs-curator.sh can compare them on one server:
//
//   lock:   every session (its own CuratorFramework, one thread) loops
//           InterProcessMutex acquire + release, on one shared lock path
//           (contended) or on its own (-uncontended); a cycle counts if its
//           acquire began inside the measured window.
//   leader: every session joins one election; the leader gives up at once
//           (LeaderLatch: close, then join with a new latch; LeaderSelector
//           with autoRequeue: takeLeadership returns). A handover counts if
//           the new leadership began inside the window; its latency runs from
//           the previous leader's release to the new leader's start.
//
// Usage (flags as zkbench's):
//   java -cp CLASSPATH LockBench -server HOST:PORT -workload lock|leader
//        [-uncontended] [-leader-recipe latch|selector] [-sessions N]
//        [-duration 10s] [-warmup 1s] [-root /curatorbench]
// It prints one JSON object with zkbench's field names.
//
// The script compiles it with javac against the Debian Curator jars at run
// time; no class file is kept in the repository.

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;

public class LockBench {
    // Settings, as zkbench's flags.
    String server = "127.0.0.1:2181";
    String workload = "lock";
    boolean uncontended;
    String leaderRecipe = "latch";
    int sessions = 8;
    long durationNs = TimeUnit.SECONDS.toNanos(10);
    long warmupNs = TimeUnit.SECONDS.toNanos(1);
    String root = "/curatorbench";

    // The measured window, in System.nanoTime.
    long t0, t1;
    final AtomicInteger holders = new AtomicInteger();
    final AtomicLong overlaps = new AtomicLong();
    final AtomicLong lastRelease = new AtomicLong(); // nanoTime; 0: none yet

    /** One session's measurements; only its thread writes them. */
    static final class Worker {
        long ops;
        long[] acquire = new long[1024];
        long[] release = new long[1024];
        int n, nr;
        final Map<String, Long> errs = new TreeMap<>();
        String lastError;

        void recordAcquire(long us) {
            if (n == acquire.length) acquire = Arrays.copyOf(acquire, n * 2);
            acquire[n++] = us;
        }

        void recordRelease(long us) {
            if (nr == release.length) release = Arrays.copyOf(release, nr * 2);
            release[nr++] = us;
        }

        void fail(Exception e) {
            String kind = e instanceof KeeperException ? ((KeeperException) e).code().name() : e.getClass().getSimpleName();
            errs.merge(kind, 1L, Long::sum);
            lastError = e.toString();
            try {
                Thread.sleep(10); // do not spin on a lasting failure
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
    }

    boolean inWindow(long t) {
        return t >= t0 && t < t1;
    }

    static long us(long ns) {
        return ns / 1000;
    }

    void lockLoop(Worker w, InterProcessMutex m, boolean shared) {
        while (System.nanoTime() < t1) {
            long begin = System.nanoTime();
            boolean ok;
            try {
                ok = m.acquire(Math.max(1, TimeUnit.NANOSECONDS.toMillis(t1 - begin)), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                w.fail(e);
                continue;
            }
            if (!ok) {
                continue; // the window ended while waiting
            }
            long acquired = System.nanoTime();
            if (shared) {
                if (holders.incrementAndGet() > 1) overlaps.incrementAndGet();
                holders.decrementAndGet();
            }
            try {
                m.release();
            } catch (Exception e) {
                if (inWindow(begin)) w.fail(e);
                continue;
            }
            long released = System.nanoTime();
            if (!inWindow(begin)) continue;
            w.ops++;
            w.recordAcquire(us(acquired - begin));
            w.recordRelease(us(released - acquired));
        }
    }

    void led(Worker w) {
        long now = System.nanoTime();
        if (holders.incrementAndGet() > 1) overlaps.incrementAndGet();
        long prev = lastRelease.get();
        if (prev != 0 && inWindow(now)) {
            w.ops++;
            w.recordAcquire(us(now - prev));
        }
        holders.decrementAndGet();
        lastRelease.set(System.nanoTime());
    }

    void latchLoop(Worker w, CuratorFramework c, String path, String id) {
        while (System.nanoTime() < t1) {
            LeaderLatch l = new LeaderLatch(c, path, id);
            try {
                l.start();
                long wait = TimeUnit.NANOSECONDS.toMillis(t1 - System.nanoTime());
                if (wait > 0 && l.await(wait, TimeUnit.MILLISECONDS)) {
                    led(w);
                }
                l.close();
            } catch (Exception e) {
                if (System.nanoTime() < t1) w.fail(e);
            }
        }
    }

    void selectorLoop(Worker w, CuratorFramework c, String path, String id) throws Exception {
        LeaderSelector s = new LeaderSelector(c, path, new LeaderSelectorListenerAdapter() {
            @Override
            public void takeLeadership(CuratorFramework client) {
                led(w);
            }
        });
        s.setId(id);
        s.autoRequeue();
        s.start();
        long left;
        while ((left = t1 - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
        s.close();
    }

    static long parseDuration(String s) {
        if (s.endsWith("ms")) return TimeUnit.MILLISECONDS.toNanos(Long.parseLong(s.substring(0, s.length() - 2)));
        if (s.endsWith("s")) return (long) (Double.parseDouble(s.substring(0, s.length() - 1)) * 1e9);
        throw new IllegalArgumentException("duration " + s + ": want e.g. 500ms or 10s");
    }

    void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-uncontended": uncontended = true; continue;
                case "-server": server = args[++i]; continue;
                case "-workload": workload = args[++i]; continue;
                case "-leader-recipe": leaderRecipe = args[++i]; continue;
                case "-sessions": sessions = Integer.parseInt(args[++i]); continue;
                case "-duration": durationNs = parseDuration(args[++i]); continue;
                case "-warmup": warmupNs = parseDuration(args[++i]); continue;
                case "-root": root = args[++i]; continue;
                default: throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        if (!workload.equals("lock") && !workload.equals("leader")) throw new IllegalArgumentException("-workload lock or leader");
        if (!leaderRecipe.equals("latch") && !leaderRecipe.equals("selector")) throw new IllegalArgumentException("-leader-recipe latch or selector");
        if (sessions < 1) throw new IllegalArgumentException("-sessions must be at least 1");
    }

    String variant() {
        if (workload.equals("leader")) return leaderRecipe;
        return uncontended ? "uncontended" : "contended";
    }

    /** Nearest-rank percentiles and the rest of zkbench's latency record, in µs. */
    static String latency(long[] v, int n) {
        if (n == 0) return "{\"min\":0,\"mean\":0,\"p50\":0,\"p90\":0,\"p99\":0,\"p99_9\":0,\"max\":0}";
        long[] s = Arrays.copyOf(v, n);
        Arrays.sort(s);
        double sum = 0;
        for (long x : s) sum += x;
        return String.format("{\"min\":%d,\"mean\":%.1f,\"p50\":%d,\"p90\":%d,\"p99\":%d,\"p99_9\":%d,\"max\":%d}",
                s[0], sum / n, rank(s, 50), rank(s, 90), rank(s, 99), rank(s, 99.9), s[n - 1]);
    }

    static long rank(long[] sorted, double q) {
        int r = (int) Math.ceil(q / 100 * sorted.length);
        return sorted[Math.min(Math.max(r, 1), sorted.length) - 1];
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    void run() throws Exception {
        List<CuratorFramework> clients = new ArrayList<>();
        try {
            for (int i = 0; i < sessions; i++) {
                CuratorFramework c = CuratorFrameworkFactory.builder().connectString(server)
                        .sessionTimeoutMs(60_000).connectionTimeoutMs(15_000)
                        .retryPolicy(new ExponentialBackoffRetry(100, 3)).build();
                c.start();
                clients.add(c);
                if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("no session with " + server);
            }
            CuratorFramework admin = clients.get(0);
            boolean rootCreated = admin.checkExists().forPath(root) == null;
            if (rootCreated) admin.create().creatingParentsIfNeeded().forPath(root);
            String base = root + "/" + workload + "-" + Long.toString(System.currentTimeMillis(), 36);

            long start = System.nanoTime();
            t0 = start + warmupNs;
            t1 = t0 + durationNs;
            Worker[] workers = new Worker[sessions];
            Thread[] threads = new Thread[sessions];
            for (int i = 0; i < sessions; i++) {
                Worker w = workers[i] = new Worker();
                CuratorFramework c = clients.get(i);
                String id = "p" + i;
                threads[i] = new Thread(() -> {
                    try {
                        switch (variant()) {
                            case "uncontended": lockLoop(w, new InterProcessMutex(c, base + "/" + id), false); break;
                            case "contended": lockLoop(w, new InterProcessMutex(c, base), true); break;
                            case "selector": selectorLoop(w, c, base, id); break;
                            default: latchLoop(w, c, base, id);
                        }
                    } catch (Exception e) {
                        w.fail(e);
                    }
                });
                threads[i].start();
            }
            for (Thread t : threads) t.join();

            long ops = 0, errors = 0;
            long[] acq = new long[0], rel = new long[0];
            int na = 0, nr = 0;
            Map<String, Long> byKind = new TreeMap<>();
            String lastError = null;
            for (Worker w : workers) {
                ops += w.ops;
                acq = Arrays.copyOf(acq, na + w.n);
                System.arraycopy(w.acquire, 0, acq, na, w.n);
                na += w.n;
                rel = Arrays.copyOf(rel, nr + w.nr);
                System.arraycopy(w.release, 0, rel, nr, w.nr);
                nr += w.nr;
                for (Map.Entry<String, Long> e : w.errs.entrySet()) {
                    byKind.merge(e.getKey(), e.getValue(), Long::sum);
                    errors += e.getValue();
                }
                if (w.lastError != null) lastError = w.lastError;
            }

            try {
                admin.delete().deletingChildrenIfNeeded().forPath(base);
            } catch (KeeperException.NoNodeException e) {
                // containers the server removed already
            }
            if (rootCreated) admin.delete().forPath(root);

            StringBuilder kinds = new StringBuilder("{");
            for (Map.Entry<String, Long> e : byKind.entrySet()) {
                if (kinds.length() > 1) kinds.append(',');
                kinds.append(quote(e.getKey())).append(':').append(e.getValue());
            }
            kinds.append('}');
            double secs = durationNs / 1e9;
            StringBuilder out = new StringBuilder();
            out.append("{\"client\":\"curator\",\"workload\":").append(quote(workload))
                    .append(",\"variant\":").append(quote(variant()))
                    .append(",\"server\":").append(quote(server))
                    .append(",\"sessions\":").append(sessions)
                    .append(",\"path\":").append(quote(base))
                    .append(",\"duration_sec\":").append(secs)
                    .append(",\"ops\":").append(ops)
                    .append(",\"ops_per_sec\":").append(String.format("%.1f", ops / secs))
                    .append(",\"errors\":").append(errors)
                    .append(",\"errors_by_kind\":").append(kinds)
                    .append(",\"overlaps\":").append(overlaps.get())
                    .append(",\"latency_us\":").append(latency(acq, na));
            if (workload.equals("lock")) out.append(",\"release_us\":").append(latency(rel, nr));
            if (lastError != null) out.append(",\"last_error\":").append(quote(lastError));
            out.append('}');
            System.out.println(out);
        } finally {
            for (CuratorFramework c : clients) c.close();
        }
    }

    public static void main(String[] args) throws Exception {
        LockBench b = new LockBench();
        try {
            b.parse(args);
        } catch (RuntimeException e) {
            System.err.println("LockBench: " + e.getMessage());
            System.exit(2);
        }
        b.run();
    }
}
