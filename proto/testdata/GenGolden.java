// Writes golden bytes produced by Apache ZooKeeper's own jute records.
//
// Run by `go test ./proto -run TestGolden -update`, which stores stdout in
// testdata/jute.golden:
//
//	java -cp /usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar GenGolden.java
//
// Each line is "<case name> <hex bytes>"; proto's golden test holds the
// matching Go records, so the names and values here must stay in step with it.

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.MultiResponse;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.*;

public class GenGolden {
    static final List<ACL> OPEN = Collections.singletonList(new ACL(31, new Id("world", "anyone")));
    static final List<ACL> TWO = Arrays.asList(
        new ACL(31, new Id("digest", "bob:hash=")), new ACL(1, new Id("ip", "10.0.0.0/8")));
    static final Stat STAT = new Stat(0x100000002L, 0x100000003L, 1700000000000L, 1700000000123L,
        2, 5, 1, 0x1000abcL, 4, 3, 0x100000004L);
    static final byte[] PW = new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }

    static void emit(String name, Record... recs) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryOutputArchive oa = BinaryOutputArchive.getArchive(out);
        for (Record r : recs) {
            r.serialize(oa, "r");
        }
        System.out.println(name + " " + hex(out.toByteArray()));
    }

    // emitConnect mirrors ClientCnxnSocket/ZooKeeperServer: the readOnly
    // byte follows the record when the peer supports it.
    static void emitConnect(String name, Record r, Boolean readOnly) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryOutputArchive oa = BinaryOutputArchive.getArchive(out);
        r.serialize(oa, "connect");
        if (readOnly != null) {
            oa.writeBool(readOnly, "readOnly");
        }
        System.out.println(name + " " + hex(out.toByteArray()));
    }

    public static void main(String[] args) throws Exception {
        // Core records.
        emit("stat", STAT);
        emit("request_header", new RequestHeader(7, 4));
        emit("reply_header", new ReplyHeader(7, 0x100000005L, -101));
        emit("multi_header", new MultiHeader(5, false, -1));

        // Handshake.
        emitConnect("connect_44", new ConnectRequest(0, 0x1234L, 30000, 0x0102030405060708L, PW), null);
        emitConnect("connect_45", new ConnectRequest(0, 0x1234L, 30000, 0x0102030405060708L, PW), true);
        emitConnect("connect_response_36", new ConnectResponse(0, 4000, 0x0102030405060708L, PW), null);
        emitConnect("connect_response_37", new ConnectResponse(0, 4000, 0x0102030405060708L, PW), true);
        emitConnect("connect_response_expired", new ConnectResponse(0, 0, 0L, new byte[16]), false);

        // Requests.
        emit("create", new CreateRequest("/a/b", "data".getBytes(), OPEN, 3));
        emit("create_nulls", new CreateRequest("/n", null, null, 0));
        emit("create_ttl", new CreateTTLRequest("/ttl", "d".getBytes(), TWO, 5, 60000L));
        emit("delete", new DeleteRequest("/a", -1));
        emit("exists", new ExistsRequest("/e", true));
        emit("getdata", new GetDataRequest("/g", false));
        emit("setdata", new SetDataRequest("/s", new byte[0], 7));
        emit("getacl", new GetACLRequest("/acl"));
        emit("setacl", new SetACLRequest("/acl", TWO, 3));
        emit("getchildren", new GetChildrenRequest("/", true));
        emit("getchildren2", new GetChildren2Request("/p", false));
        emit("sync", new SyncRequest("/sync"));
        emit("check", new CheckVersionRequest("/ck", 5));
        emit("reconfig", new ReconfigRequest("server.4=h4:2888:3888;2181", "", "", -1L));
        emit("reconfig_nulls", new ReconfigRequest(null, "1,2", null, 0x100000000L));
        emit("checkwatches", new CheckWatchesRequest("/w", 2));
        emit("removewatches", new RemoveWatchesRequest("/w", 3));
        emit("auth", new AuthPacket(0, "digest", "user:secret".getBytes()));
        emit("setwatches", new SetWatches(0x100000007L, Arrays.asList("/d1", "/d2"),
            Collections.emptyList(), Collections.singletonList("/c")));
        emit("setwatches_nulls", new SetWatches(0L, null, null, null));
        emit("setwatches2", new SetWatches2(9L, Collections.singletonList("/d"),
            Collections.singletonList("/e"), Collections.singletonList("/c"),
            Collections.singletonList("/p"), Arrays.asList("/r1", "/r2")));
        emit("sasl", new GetSASLRequest("token".getBytes()));
        emit("getephemerals", new GetEphemeralsRequest("/eph"));
        emit("getallchildrennumber", new GetAllChildrenNumberRequest("/all"));
        emit("addwatch", new AddWatchRequest("/aw", 1));

        // Responses.
        emit("create_response", new CreateResponse("/a/b0000000001"));
        emit("create2_response", new Create2Response("/c", STAT));
        emit("exists_response", new ExistsResponse(STAT));
        emit("getdata_response", new GetDataResponse("data".getBytes(), STAT));
        emit("getdata_response_null", new GetDataResponse(null, STAT));
        emit("setdata_response", new SetDataResponse(STAT));
        emit("getacl_response", new GetACLResponse(TWO, STAT));
        emit("setacl_response", new SetACLResponse(STAT));
        emit("getchildren_response", new GetChildrenResponse(Arrays.asList("a", "bb", "")));
        emit("getchildren_response_empty", new GetChildrenResponse(Collections.emptyList()));
        emit("getchildren2_response", new GetChildren2Response(Arrays.asList("x"), STAT));
        emit("sync_response", new SyncResponse("/sync"));
        emit("sasl_response", new SetSASLResponse(null));
        emit("getephemerals_response", new GetEphemeralsResponse(Arrays.asList("/eph/1", "/eph/2")));
        emit("getallchildrennumber_response", new GetAllChildrenNumberResponse(42));
        emit("whoami_response", new WhoAmIResponse(Arrays.asList(
            new ClientInfo("ip", "127.0.0.1"), new ClientInfo("digest", "bob"))));
        emit("error_response", new ErrorResponse(0));
        emit("watcher_event", new WatcherEvent(3, 3, "/w"));
        emit("watcher_event_session", new WatcherEvent(-1, -112, null));

        // A whole notification frame as the server writes it.
        {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            BinaryOutputArchive oa = BinaryOutputArchive.getArchive(body);
            new ReplyHeader(-1, 0x100000009L, 0).serialize(oa, "header");
            new WatcherEvent(4, 3, "/parent").serialize(oa, "event");
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            BinaryOutputArchive.getArchive(frame).writeInt(body.size(), "len");
            frame.write(body.toByteArray());
            System.out.println("notification_frame " + hex(frame.toByteArray()));
        }

        // multi requests as the Java client builds them.
        emit("multi", new MultiOperationRecord(Arrays.asList(
            Op.create("/m", "x".getBytes(), OPEN, CreateMode.PERSISTENT_SEQUENTIAL),
            Op.create("/m/c", null, OPEN, CreateMode.CONTAINER),
            Op.create("/m/t", "t".getBytes(), TWO, CreateMode.PERSISTENT_WITH_TTL, 5000L),
            Op.delete("/m/old", 3),
            Op.setData("/m", "y".getBytes(), -1),
            Op.check("/m", 1))));
        emit("multi_read", new MultiOperationRecord(Arrays.asList(
            Op.getChildren("/m"), Op.getData("/m/c"))));
        // The Java client never sends create2 in a multi, but servers accept it.
        emit("multi_create2",
            new MultiHeader(15, false, -1), new CreateRequest("/c2", "z".getBytes(), OPEN, 1),
            new MultiHeader(-1, true, -1));

        // multi responses as the server writes them.
        MultiResponse ok = new MultiResponse();
        ok.add(new OpResult.CreateResult("/m0000000000"));
        ok.add(new OpResult.CreateResult("/m/c", STAT));
        ok.add(new OpResult.DeleteResult());
        ok.add(new OpResult.SetDataResult(STAT));
        ok.add(new OpResult.CheckResult());
        emit("multi_response", ok);
        MultiResponse failed = new MultiResponse();
        failed.add(new OpResult.ErrorResult(0));
        failed.add(new OpResult.ErrorResult(-101));
        failed.add(new OpResult.ErrorResult(-2));
        emit("multi_response_failed", failed);
        MultiResponse read = new MultiResponse();
        read.add(new OpResult.GetChildrenResult(Arrays.asList("c", "t")));
        read.add(new OpResult.GetDataResult("y".getBytes(), STAT));
        read.add(new OpResult.ErrorResult(-101));
        emit("multi_read_response", read);
        emit("multi_response_empty", new MultiResponse());
    }
}
