import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * A Curator 5 client driven line by line on stdin by the Go interop test
 * (cache_curator_test.go), against the server at args[0]. Commands answer
 * one line starting with DONE, VIEW or FAIL; the CuratorCaches it runs print
 * their events as they come, on lines of their own:
 *
 *   watch PATH           -> DONE   (starts a CuratorCache on PATH; its events
 *                                   follow as "EVENT PATH TYPE NODE DATA",
 *                                   "EVENT PATH NODE_DELETED NODE" and
 *                                   "EVENT PATH INITIALIZED")
 *   create PATH DATA     -> DONE   (a persistent node)
 *   set PATH DATA        -> DONE
 *   delete PATH          -> DONE   (with its children)
 *   view PATH            -> VIEW p=d,p=d,...   (the cache's nodes by path)
 *   quit
 *
 * DATA is a word without spaces; "-" stands for no data.
 */
public class CacheAgent {
    public static void main(String[] args) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(args[0], 10_000, 10_000,
                new ExponentialBackoffRetry(100, 5));
        c.start();
        c.blockUntilConnected();
        Map<String, CuratorCache> caches = new HashMap<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("READY");
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split(" ");
            try {
                switch (f[0]) {
                    case "quit":
                        caches.values().forEach(CuratorCache::close);
                        c.close();
                        System.exit(0);
                    case "watch": {
                        String root = f[1];
                        CuratorCache cache = CuratorCache.build(c, root);
                        cache.listenable().addListener(new CuratorCacheListener() {
                            @Override
                            public void event(Type type, ChildData oldData, ChildData data) {
                                if (type == Type.NODE_DELETED) {
                                    System.out.println("EVENT " + root + " " + type + " " + oldData.getPath());
                                } else {
                                    System.out.println("EVENT " + root + " " + type + " " + data.getPath() + " " + text(data));
                                }
                            }

                            @Override
                            public void initialized() {
                                System.out.println("EVENT " + root + " INITIALIZED");
                            }
                        });
                        cache.start();
                        caches.put(root, cache);
                        System.out.println("DONE");
                        break;
                    }
                    case "create":
                        c.create().forPath(f[1], bytes(f[2]));
                        System.out.println("DONE");
                        break;
                    case "set":
                        c.setData().forPath(f[1], bytes(f[2]));
                        System.out.println("DONE");
                        break;
                    case "delete":
                        c.delete().deletingChildrenIfNeeded().forPath(f[1]);
                        System.out.println("DONE");
                        break;
                    case "view": {
                        TreeMap<String, String> view = new TreeMap<>();
                        caches.get(f[1]).stream().forEach(d -> view.put(d.getPath(), text(d)));
                        StringBuilder sb = new StringBuilder();
                        view.forEach((p, d) -> sb.append(sb.length() == 0 ? "" : ",").append(p).append('=').append(d));
                        System.out.println("VIEW " + sb);
                        break;
                    }
                    default:
                        System.out.println("FAIL unknown command " + f[0]);
                }
            } catch (Exception e) {
                System.out.println("FAIL " + e.toString().replace('\n', ' '));
            }
        }
    }

    static byte[] bytes(String word) {
        return word.equals("-") ? new byte[0] : word.getBytes(StandardCharsets.UTF_8);
    }

    static String text(ChildData d) {
        byte[] b = d.getData();
        return (b == null || b.length == 0) ? "-" : new String(b, StandardCharsets.UTF_8);
    }
}
