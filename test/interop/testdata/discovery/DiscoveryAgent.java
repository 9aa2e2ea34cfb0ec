import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceInstanceBuilder;
import org.apache.curator.x.discovery.ServiceProvider;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

/**
 * A Curator 5 service discovery client driven line by line on stdin by the
 * Go interop test (discovery_curator_test.go), against the server at
 * args[0]. Fields are separated by single spaces; "-" stands for null; a
 * payload is JSON text (the rest of the line), read with Jackson. Records
 * are printed as Curator's default JsonInstanceSerializer writes them,
 * tab-separated (JSON text has no raw tabs). names, query and get sync
 * first, so that on an ensemble they see what the Go side wrote through
 * another server before it asked. Each command answers one line:
 *
 *   register BASE NAME ID ADDRESS PORT PAYLOAD -> OK   (a DYNAMIC instance)
 *   update BASE NAME ID ADDRESS PORT PAYLOAD   -> OK
 *   unregister BASE NAME ID                    -> OK
 *   names BASE                                 -> NAMES a,b,...
 *   query BASE NAME                            -> INSTANCES rec\trec...  (sorted by id)
 *   get BASE NAME ID                           -> INSTANCE rec | NONE
 *   cache BASE NAME                            -> OK (starts a ServiceCache)
 *   cached BASE NAME                           -> INSTANCES rec\trec...  (the cache's, sorted by id)
 *   provider BASE NAME                         -> OK (starts a round-robin ServiceProvider)
 *   pick BASE NAME                             -> INSTANCE rec | NONE
 *   json MODE NAME ID ADDRESS PORT SSLPORT TIME TYPE URISPEC PAYLOAD
 *                                              -> JSON rec  (MODE default or full: the
 *                                                 serializer with compatibleSerializationMode
 *                                                 true or false)
 *   quit
 */
public class DiscoveryAgent {
    static final ObjectMapper mapper = new ObjectMapper();
    static final JsonInstanceSerializer<Object> serializer = new JsonInstanceSerializer<>(Object.class);
    static final JsonInstanceSerializer<Object> fullSerializer = new JsonInstanceSerializer<>(Object.class, false);

    public static void main(String[] args) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(args[0], new ExponentialBackoffRetry(100, 5));
        c.start();
        c.blockUntilConnected();
        Map<String, ServiceDiscovery<Object>> discoveries = new HashMap<>();
        Map<String, ServiceCache<Object>> caches = new HashMap<>();
        Map<String, ServiceProvider<Object>> providers = new HashMap<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("READY");
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split(" ", -1);
            try {
                if (f[0].equals("quit")) {
                    for (ServiceProvider<Object> p : providers.values()) p.close();
                    for (ServiceCache<Object> ca : caches.values()) ca.close();
                    for (ServiceDiscovery<Object> d : discoveries.values()) d.close();
                    c.close();
                    System.exit(0);
                }
                if (f[0].equals("json")) {
                    ServiceInstanceBuilder<Object> b = ServiceInstance.builder();
                    b.name(f[2]).id(f[3]).address(nul(f[4])).registrationTimeUTC(Long.parseLong(f[7]))
                        .serviceType(ServiceType.valueOf(f[8])).payload(payload(rest(f, 10)));
                    if (nul(f[5]) != null) b.port(Integer.parseInt(f[5]));
                    if (nul(f[6]) != null) b.sslPort(Integer.parseInt(f[6]));
                    if (nul(f[9]) != null) b.uriSpec(new UriSpec(f[9]));
                    JsonInstanceSerializer<Object> s = f[1].equals("full") ? fullSerializer : serializer;
                    System.out.println("JSON " + new String(s.serialize(b.build()), StandardCharsets.UTF_8));
                    continue;
                }
                String base = f[1];
                ServiceDiscovery<Object> d = discoveries.get(base);
                if (d == null) {
                    d = ServiceDiscoveryBuilder.builder(Object.class).client(c).basePath(base)
                        .serializer(serializer).build();
                    d.start();
                    discoveries.put(base, d);
                }
                String key = base + " " + (f.length > 2 ? f[2] : "");
                switch (f[0]) {
                    case "register":
                        d.registerService(instance(f));
                        System.out.println("OK");
                        break;
                    case "update":
                        d.updateService(instance(f));
                        System.out.println("OK");
                        break;
                    case "unregister":
                        d.unregisterService(d.queryForInstance(f[2], f[3]));
                        System.out.println("OK");
                        break;
                    case "names":
                        sync(c);
                        List<String> names = new ArrayList<>(d.queryForNames());
                        names.sort(null);
                        System.out.println("NAMES " + String.join(",", names));
                        break;
                    case "query":
                        sync(c);
                        System.out.println("INSTANCES " + records(d.queryForInstances(f[2])));
                        break;
                    case "get": {
                        sync(c);
                        ServiceInstance<Object> i = d.queryForInstance(f[2], f[3]);
                        System.out.println(i == null ? "NONE" : "INSTANCE " + record(i));
                        break;
                    }
                    case "cache": {
                        ServiceCache<Object> ca = d.serviceCacheBuilder().name(f[2]).build();
                        ca.start();
                        caches.put(key, ca);
                        System.out.println("OK");
                        break;
                    }
                    case "cached":
                        System.out.println("INSTANCES " + records(caches.get(key).getInstances()));
                        break;
                    case "provider": {
                        ServiceProvider<Object> p = d.serviceProviderBuilder().serviceName(f[2]).build();
                        p.start();
                        providers.put(key, p);
                        System.out.println("OK");
                        break;
                    }
                    case "pick": {
                        ServiceInstance<Object> i = providers.get(key).getInstance();
                        System.out.println(i == null ? "NONE" : "INSTANCE " + record(i));
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

    /** sync makes the client's server catch up with the leader (Curator's sync is asynchronous). */
    static void sync(CuratorFramework c) throws Exception {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        c.sync().inBackground((client, event) -> done.countDown()).forPath("/");
        if (!done.await(60, java.util.concurrent.TimeUnit.SECONDS)) throw new Exception("sync timed out");
    }

    static String nul(String s) {
        return s.equals("-") ? null : s;
    }

    static String rest(String[] f, int from) {
        return String.join(" ", java.util.Arrays.copyOfRange(f, from, f.length));
    }

    static Object payload(String json) throws Exception {
        return json.isEmpty() ? null : mapper.readValue(json, Object.class);
    }

    static ServiceInstance<Object> instance(String[] f) throws Exception {
        ServiceInstanceBuilder<Object> b = ServiceInstance.builder();
        b.name(f[2]).id(f[3]).address(nul(f[4])).payload(payload(rest(f, 6)));
        if (nul(f[5]) != null) b.port(Integer.parseInt(f[5]));
        return b.build();
    }

    static String record(ServiceInstance<Object> i) throws Exception {
        return new String(serializer.serialize(i), StandardCharsets.UTF_8);
    }

    static String records(java.util.Collection<ServiceInstance<Object>> all) throws Exception {
        List<ServiceInstance<Object>> l = new ArrayList<>(all);
        l.sort(Comparator.comparing(ServiceInstance::getId));
        List<String> out = new ArrayList<>();
        for (ServiceInstance<Object> i : l) out.add(record(i));
        return String.join("\t", out);
    }
}
