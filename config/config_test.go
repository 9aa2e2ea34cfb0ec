package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	c, err := Parse(strings.NewReader(text), "zoo.cfg")
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return c
}

func TestParseDefaults(t *testing.T) {
	c := mustParse(t, "dataDir=/var/lib/zookeeper\n")
	checks := []struct {
		name      string
		got, want any
	}{
		{"TickTime", c.TickTime, 3000 * time.Millisecond},
		{"InitLimit", c.InitLimit, 10},
		{"SyncLimit", c.SyncLimit, 5},
		{"ClientPort", c.ClientPort, 2181},
		{"ClientPortAddress", c.ClientPortAddress, ""},
		{"ClientAddr", c.ClientAddr(), ":2181"},
		{"MaxClientCnxns", c.MaxClientCnxns, 60},
		{"MinSessionTimeout field", c.MinSessionTimeout, time.Duration(0)},
		{"FourLetterWhitelist", c.FourLetterWhitelist.String(), "srvr"},
		{"ExtendedTypesEnabled", c.ExtendedTypesEnabled, false},
		{"SnapCount", c.SnapCount, 100000},
		{"AutopurgeSnapRetainCount", c.AutopurgeSnapRetainCount, 3},
		{"AutopurgePurgeInterval", c.AutopurgePurgeInterval, time.Duration(0)},
		{"ForceSync", c.ForceSync, true},
		{"JuteMaxBuffer", c.JuteMaxBuffer, 0xfffff},
		{"ContainerCheckInterval", c.ContainerCheckInterval, time.Minute},
		{"ContainerMaxPerMinute", c.ContainerMaxPerMinute, 10000},
		{"StandaloneEnabled", c.StandaloneEnabled, true},
		{"ReconfigEnabled", c.ReconfigEnabled, false},
		{"AdminEnableServer", c.AdminEnableServer, true},
		{"AdminServerPort", c.AdminServerPort, 8080},
		{"MetricsProviderHTTPPort", c.MetricsProviderHTTPPort, 7000},
		{"TxnLogDir", c.TxnLogDir(), "/var/lib/zookeeper"},
		{"Distributed", c.Distributed(), false},
		{"PIDFilePath", c.PIDFilePath(), "/var/lib/zookeeper/zookeeper_server.pid"},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	min, max := c.SessionTimeouts()
	if min != 6*time.Second || max != 60*time.Second {
		t.Errorf("SessionTimeouts() = %v, %v, want 6s, 1m0s (2 and 20 ticks of 3000 ms)", min, max)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.ClientAddr() != "127.0.0.1:2181" || c.DataDir != "data" || c.TickTime != 2*time.Second {
		t.Errorf("Default() = addr %s dataDir %q tick %v, want 127.0.0.1:2181, data, 2s", c.ClientAddr(), c.DataDir, c.TickTime)
	}
	if min, max := c.SessionTimeouts(); min != 4*time.Second || max != 40*time.Second {
		t.Errorf("Default().SessionTimeouts() = %v, %v, want 4s, 40s", min, max)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate(): %v", err)
	}
	// Timeouts follow a changed tick.
	c.TickTime = 100 * time.Millisecond
	if min, max := c.SessionTimeouts(); min != 200*time.Millisecond || max != 2*time.Second {
		t.Errorf("after TickTime=100ms: SessionTimeouts() = %v, %v", min, max)
	}
}

func TestParseKeys(t *testing.T) {
	tests := []struct {
		line  string
		check func(c *Config) bool
	}{
		{"tickTime=500", func(c *Config) bool { return c.TickTime == 500*time.Millisecond }},
		{"initLimit=7", func(c *Config) bool { return c.InitLimit == 7 }},
		{"syncLimit=+3", func(c *Config) bool { return c.SyncLimit == 3 }},
		{"dataLogDir=/log", func(c *Config) bool { return c.DataLogDir == "/log" && c.TxnLogDir() == "/log" }},
		{"clientPort=0", func(c *Config) bool { return c.ClientPort == 0 }},
		{"clientPortAddress=10.0.0.1", func(c *Config) bool { return c.ClientAddr() == "10.0.0.1:2181" }},
		{"clientPortAddress=::1", func(c *Config) bool { return c.ClientAddr() == "[::1]:2181" }},
		{"maxClientCnxns=0", func(c *Config) bool { return c.MaxClientCnxns == 0 }},
		{"maxCnxns=100", func(c *Config) bool { return c.MaxCnxns == 100 }},
		{"minSessionTimeout=1000", func(c *Config) bool { min, _ := c.SessionTimeouts(); return min == time.Second }},
		{"maxSessionTimeout=90000", func(c *Config) bool { _, max := c.SessionTimeouts(); return max == 90*time.Second }},
		{"globalOutstandingLimit=5", func(c *Config) bool { return c.GlobalOutstandingLimit == 5 }},
		{"4lw.commands.whitelist=stat, ruok,conf", func(c *Config) bool {
			w := c.FourLetterWhitelist
			return w.String() == "conf,ruok,srvr,stat" && w.Contains("ruok") && !w.Contains("mntr")
		}},
		{"4lw.commands.whitelist=ruok mntr", func(c *Config) bool { return c.FourLetterWhitelist.String() == "mntr,ruok,srvr" }},
		{"4lw.commands.whitelist=*", func(c *Config) bool { return c.FourLetterWhitelist.Contains("wchc") }},
		{"zookeeper.4lw.commands.whitelist=*", func(c *Config) bool { return c.FourLetterWhitelist.Contains("dump") }},
		{"4lw.commands.whitelist=", func(c *Config) bool { return c.FourLetterWhitelist.String() == "srvr" }},
		{"extendedTypesEnabled=TRUE", func(c *Config) bool { return c.ExtendedTypesEnabled }},
		{"zookeeper.extendedTypesEnabled=true", func(c *Config) bool { return c.ExtendedTypesEnabled }},
		{"readonlymode.enabled=true", func(c *Config) bool { return c.ReadOnlyModeEnabled && len(c.Unknown) == 0 }},
		{"snapCount=5000", func(c *Config) bool { return c.SnapCount == 5000 }},
		{"autopurge.snapRetainCount=10", func(c *Config) bool { return c.AutopurgeSnapRetainCount == 10 }},
		{"autopurge.snapRetainCount=1", func(c *Config) bool { return c.AutopurgeSnapRetainCount == 3 && len(c.Warnings) == 1 }},
		{"autopurge.purgeInterval=24", func(c *Config) bool { return c.AutopurgePurgeInterval == 24*time.Hour }},
		{"autopurge.purgeInterval=30m", func(c *Config) bool { return c.AutopurgePurgeInterval == 30*time.Minute }},
		{"autopurge.purgeInterval=500ms", func(c *Config) bool { return c.AutopurgePurgeInterval == 500*time.Millisecond }},
		{"autopurge.purgeInterval=2D", func(c *Config) bool { return c.AutopurgePurgeInterval == 48*time.Hour }},
		{"forceSync=no", func(c *Config) bool { return !c.ForceSync }},
		{"jute.maxbuffer=4194304", func(c *Config) bool { return c.JuteMaxBuffer == 4<<20 }},
		{"jute.maxbuffer=0x400000", func(c *Config) bool { return c.JuteMaxBuffer == 4<<20 }},
		{"zookeeper.jute.maxbuffer=#400000", func(c *Config) bool { return c.JuteMaxBuffer == 4<<20 }},
		{"znode.container.checkIntervalMs=1000", func(c *Config) bool { return c.ContainerCheckInterval == time.Second }},
		{"znode.container.maxPerMinute=50", func(c *Config) bool { return c.ContainerMaxPerMinute == 50 }},
		{"DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=", func(c *Config) bool {
			return c.SuperDigest == "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
		}},
		{"zookeeper.DigestAuthenticationProvider.superDigest=super:x", func(c *Config) bool { return c.SuperDigest == "super:x" }},
		{"peerType=OBSERVER", func(c *Config) bool { return c.PeerType == Observer && c.IsObserver() }},
		{"standaloneEnabled=false", func(c *Config) bool { return !c.StandaloneEnabled }},
		{"reconfigEnabled=true", func(c *Config) bool { return c.ReconfigEnabled }},
		{"admin.enableServer=false", func(c *Config) bool { return !c.AdminEnableServer }},
		{"zookeeper.admin.serverPort=9090", func(c *Config) bool { return c.AdminServerPort == 9090 }},
		{"admin.serverAddress=127.0.0.1", func(c *Config) bool { return c.AdminServerAddress == "127.0.0.1" }},
		{"metricsProvider.httpPort=7001", func(c *Config) bool { return c.MetricsProviderHTTPPort == 7001 }},
		{"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider", func(c *Config) bool {
			return strings.HasSuffix(c.MetricsProviderClassName, "PrometheusMetricsProvider")
		}},
		{"electionAlg=3", func(c *Config) bool { return len(c.Unknown) == 0 }},
		{"secureClientPort=2281", func(c *Config) bool {
			return reflect.DeepEqual(c.Unknown, []string{"secureClientPort"}) && c.Raw["secureClientPort"] == "2281"
		}},
		{"zookeeper.unknownThing=1", func(c *Config) bool { return reflect.DeepEqual(c.Unknown, []string{"zookeeper.unknownThing"}) }},
		{"  tickTime   =   700   ", func(c *Config) bool { return c.TickTime == 700*time.Millisecond && c.Raw["tickTime"] == "700" }},
		{"tickTime 800", func(c *Config) bool { return c.TickTime == 800*time.Millisecond }},
		{"tickTime:900", func(c *Config) bool { return c.TickTime == 900*time.Millisecond }},
		{"tickTime=1\ntickTime=2", func(c *Config) bool { return c.TickTime == 2*time.Millisecond && c.Raw["tickTime"] == "2" }},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c := mustParse(t, "dataDir=/d\n"+tt.line+"\n")
			if !tt.check(c) {
				t.Errorf("Parse(%q) gave an unexpected config:\n%s\nunknown %q warnings %q", tt.line, c, c.Unknown, c.Warnings)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"tickTime=abc", `zoo.cfg:1: tickTime: invalid integer "abc"`},
		{"# c\n\ntickTime=abc", `zoo.cfg:3: tickTime: invalid integer "abc"`},
		{"tickTime=0", `zoo.cfg:1: tickTime: invalid value "0": must be at least 1`},
		{"tickTime=99999999999", `zoo.cfg:1: tickTime: invalid integer "99999999999"`},
		{"clientPort=70000", `zoo.cfg:1: clientPort: port 70000 out of range 0-65535`},
		{"maxClientCnxns=-1", `zoo.cfg:1: maxClientCnxns: invalid value "-1": must be at least 0`},
		{"dataDir=", `zoo.cfg:1: dataDir: empty value`},
		{"extendedTypesEnabled=yes", `zoo.cfg:1: extendedTypesEnabled: invalid boolean "yes": want true or false`},
		{"zookeeper.extendedTypesEnabled=1", `zoo.cfg:1: zookeeper.extendedTypesEnabled: invalid boolean "1": want true or false`},
		{"standaloneEnabled=no", `zoo.cfg:1: standaloneEnabled: invalid boolean "no": want true or false`},
		{"forceSync=true", `zoo.cfg:1: forceSync: invalid value "true": want yes or no`},
		{"jute.maxbuffer=1MB", `zoo.cfg:1: jute.maxbuffer: invalid integer "1MB"`},
		{"jute.maxbuffer=08", `zoo.cfg:1: jute.maxbuffer: invalid integer "08"`},
		{"autopurge.purgeInterval=1w", `zoo.cfg:1: autopurge.purgeInterval: invalid time interval "1w": want hours, or a number with ms, s, m, h or d`},
		{"peerType=leader", `zoo.cfg:1: peerType: invalid peer type "leader": want participant or observer`},
		{"electionAlg=1", `zoo.cfg:1: electionAlg: invalid value "1": only 3 is supported`},
		{"admin.serverPort=0", `zoo.cfg:1: admin.serverPort: port 0 out of range 1-65535`},
		{"DigestAuthenticationProvider.superDigest=nocolon", `zoo.cfg:1: DigestAuthenticationProvider.superDigest: invalid digest "nocolon": want user:base64-sha1`},
		{"group.1=1:2:3", `zoo.cfg:1: group.1: hierarchical quorums (group./weight.) are not supported`},
		{"server.x=h:1:2", `zoo.cfg:1: server.x: invalid server id "x": want a positive integer`},
		{"server.0=h:1:2", `zoo.cfg:1: server.0: invalid server id "0": want a positive integer`},
		{"server.1=h:1", `zoo.cfg:1: server.1: invalid server address "h:1": want host:port:port[:participant|observer]`},
		{"server.1=h:1:1", `zoo.cfg:1: server.1: invalid server address "h:1:1": quorum and election ports must differ`},
		{"server.1=h:a:2", `zoo.cfg:1: server.1: invalid server address "h:a:2": quorum port: invalid port "a"`},
		{"server.1=h:1:2:leader", `zoo.cfg:1: server.1: invalid server address "h:1:2:leader": unknown peer type "leader"`},
		{"server.1=h:1:2|g:1:2", `zoo.cfg:1: server.1: invalid server address "h:1:2|g:1:2": multiple addresses per server are not supported`},
		{"server.1=h:1:2;x:y:z", `zoo.cfg:1: server.1: invalid client address "x:y:z" in "h:1:2;x:y:z"`},
		{"server.1=[::1:1:2", `zoo.cfg:1: server.1: invalid server address "[::1:1:2": "[::1:1:2" starts with '[' but has no matching ']'`},
		{"server.1=h:1:2\nserver.01=h:3:4", `zoo.cfg:2: server.01: server id 1 is already defined by server.1`},
		{"dynamicConfigFile=/x\nserver.1=h:1:2", `zoo.cfg: server.1: must be in the dynamic config file when dynamicConfigFile is set`},
		{`a=\u00zz`, `zoo.cfg:1: malformed \uxxxx escape "\\u00zz"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in), "zoo.cfg")
			if err == nil {
				t.Fatalf("Parse(%q) = nil error, want %q", tt.in, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got %s\nwant %s", tt.in, err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "zoo.cfg" {
				t.Errorf("error %v is not an *Error naming zoo.cfg", err)
			}
		})
	}
}

func TestParseServers(t *testing.T) {
	c := mustParse(t, `dataDir=/d
server.3=zk3.example.com:2888:3888:observer
server.1=10.0.0.1:2888:3888
server.2=[2001:db8::2]:2888:3888:participant;2182
server.4=h4:2888:3888;10.0.0.4:2184
server.5=h5:2888:3888:Participant;[::1]:2185
`)
	want := []Server{
		{ID: 1, Host: "10.0.0.1", QuorumPort: 2888, ElectionPort: 3888},
		{ID: 2, Host: "2001:db8::2", QuorumPort: 2888, ElectionPort: 3888, ClientAddr: "0.0.0.0:2182"},
		{ID: 3, Host: "zk3.example.com", QuorumPort: 2888, ElectionPort: 3888, Observer: true},
		{ID: 4, Host: "h4", QuorumPort: 2888, ElectionPort: 3888, ClientAddr: "10.0.0.4:2184"},
		{ID: 5, Host: "h5", QuorumPort: 2888, ElectionPort: 3888, ClientAddr: "[::1]:2185"},
	}
	if !reflect.DeepEqual(c.Servers, want) {
		t.Fatalf("Servers =\n%+v\nwant\n%+v", c.Servers, want)
	}
	strs := []string{
		"10.0.0.1:2888:3888:participant",
		"[2001:db8::2]:2888:3888:participant;0.0.0.0:2182",
		"zk3.example.com:2888:3888:observer",
		"h4:2888:3888:participant;10.0.0.4:2184",
		"h5:2888:3888:participant;[::1]:2185",
	}
	for i, s := range c.Servers {
		if s.String() != strs[i] {
			t.Errorf("Servers[%d].String() = %q, want %q", i, s.String(), strs[i])
		}
	}
	if c.Servers[1].QuorumAddr() != "[2001:db8::2]:2888" || c.Servers[0].ElectionAddr() != "10.0.0.1:3888" {
		t.Errorf("QuorumAddr/ElectionAddr = %s, %s", c.Servers[1].QuorumAddr(), c.Servers[0].ElectionAddr())
	}
	if c.Voters() != 4 || !c.Distributed() {
		t.Errorf("Voters() = %d, Distributed() = %v, want 4, true", c.Voters(), c.Distributed())
	}
	c.MyID = 2
	if c.ClientAddr() != "0.0.0.0:2182" {
		t.Errorf("ClientAddr() for myid 2 = %s, want the server line's 0.0.0.0:2182", c.ClientAddr())
	}
	c.MyID = 3
	if !c.IsObserver() || c.ClientAddr() != ":2181" {
		t.Errorf("myid 3: IsObserver() = %v, ClientAddr() = %s", c.IsObserver(), c.ClientAddr())
	}
}

func TestParseSecureClientPortWarns(t *testing.T) {
	c := mustParse(t, "dataDir=/d\nserver.1=h:1:2;3;4\n")
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "secure client address") {
		t.Errorf("Warnings = %q, want one about the secure client address", c.Warnings)
	}
}

func TestStringRoundTrip(t *testing.T) {
	inputs := []string{
		"dataDir=/d",
		`tickTime=100
dataDir=/srv/zoo\\data\tx
dataLogDir=/log
clientPort=0
clientPortAddress=127.0.0.1
minSessionTimeout=300
maxSessionTimeout=5000
4lw.commands.whitelist=ruok,stat
zookeeper.extendedTypesEnabled=true
autopurge.purgeInterval=90m
forceSync=no
jute.maxbuffer=0x100000
DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
peerType=observer
metricsProvider.className=x.Y
server.1=a:1:2
server.2=b:1:2:observer;0.0.0.0:2182
weird\ key\=x=v:1
secureClientPort=2281`,
		"dataDir=/d\ndynamicConfigFile=/d/zoo.cfg.dynamic",
	}
	for _, in := range inputs {
		c1 := mustParse(t, in)
		out := c1.String()
		c2 := mustParse(t, out)
		c1.Raw, c2.Raw, c1.seen, c2.seen = nil, nil, nil, nil
		if !reflect.DeepEqual(c1, c2) {
			t.Errorf("Parse(String()) differs for input %q\nString():\n%s\nfirst  %+v\nsecond %+v", in, out, c1, c2)
		}
	}
}

// TestParseSystemSample parses the zoo.cfg of the Debian zookeeper package.
func TestParseSystemSample(t *testing.T) {
	const path = "/etc/zookeeper/conf/zoo.cfg"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%s not present (Debian package zookeeper): %v", path, err)
	}
	defer f.Close()
	c, err := Parse(f, path)
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	if c.TickTime != 2*time.Second || c.InitLimit != 10 || c.SyncLimit != 5 || c.ClientPort != 2181 || c.DataDir == "" {
		t.Errorf("%s: tick %v init %d sync %d port %d dataDir %q", path, c.TickTime, c.InitLimit, c.SyncLimit, c.ClientPort, c.DataDir)
	}
	if len(c.Unknown) != 0 {
		t.Errorf("%s: unknown keys %q", path, c.Unknown)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// TestParseSample parses testdata/zoo_sample.cfg, written in the style of
// Apache's conf/zoo_sample.cfg with the commented-out options enabled.
func TestParseSample(t *testing.T) {
	c, err := Load("testdata/zoo_sample.cfg")
	if err != nil {
		t.Fatal(err)
	}
	if c.TickTime != 2*time.Second || c.DataDir != "/tmp/zookeeper" || c.MaxClientCnxns != 60 ||
		c.AutopurgeSnapRetainCount != 3 || c.AutopurgePurgeInterval != time.Hour ||
		!strings.HasSuffix(c.MetricsProviderClassName, "PrometheusMetricsProvider") || c.MetricsProviderHTTPPort != 7000 {
		t.Errorf("unexpected config from zoo_sample.cfg:\n%s", c)
	}
	if !reflect.DeepEqual(c.Unknown, []string{"metricsProvider.exportJvmInfo"}) {
		t.Errorf("Unknown = %q, want [metricsProvider.exportJvmInfo]", c.Unknown)
	}
}
