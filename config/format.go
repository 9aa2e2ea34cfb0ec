package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// String renders c as a zoo.cfg that Parse reads back to the same settings:
// every typed setting under its canonical key (derived values that are unset
// stay out), then the server lines, then the unknown keys as written. It
// includes SuperDigest, so treat it like the file itself.
func (c *Config) String() string {
	var b strings.Builder
	kv := func(key string, value any) {
		fmt.Fprintf(&b, "%s=%s\n", key, escapeValue(fmt.Sprint(value)))
	}
	ms := func(key string, d interface{ Milliseconds() int64 }) { kv(key, d.Milliseconds()) }
	ms("tickTime", c.TickTime)
	kv("initLimit", c.InitLimit)
	kv("syncLimit", c.SyncLimit)
	if c.DataDir != "" {
		kv("dataDir", c.DataDir)
	}
	if c.DataLogDir != "" {
		kv("dataLogDir", c.DataLogDir)
	}
	kv("clientPort", c.ClientPort)
	if c.ClientPortAddress != "" {
		kv("clientPortAddress", c.ClientPortAddress)
	}
	kv("maxClientCnxns", c.MaxClientCnxns)
	kv("maxCnxns", c.MaxCnxns)
	if c.MinSessionTimeout != 0 {
		ms("minSessionTimeout", c.MinSessionTimeout)
	}
	if c.MaxSessionTimeout != 0 {
		ms("maxSessionTimeout", c.MaxSessionTimeout)
	}
	kv("globalOutstandingLimit", c.GlobalOutstandingLimit)
	kv("4lw.commands.whitelist", c.FourLetterWhitelist)
	kv("extendedTypesEnabled", c.ExtendedTypesEnabled)
	kv("snapCount", c.SnapCount)
	kv("autopurge.snapRetainCount", c.AutopurgeSnapRetainCount)
	kv("autopurge.purgeInterval", formatInterval(c.AutopurgePurgeInterval))
	kv("forceSync", map[bool]string{true: "yes", false: "no"}[c.ForceSync])
	kv("jute.maxbuffer", c.JuteMaxBuffer)
	ms("znode.container.checkIntervalMs", c.ContainerCheckInterval)
	kv("znode.container.maxPerMinute", c.ContainerMaxPerMinute)
	if c.SuperDigest != "" {
		kv("DigestAuthenticationProvider.superDigest", c.SuperDigest)
	}
	kv("peerType", c.PeerType)
	kv("standaloneEnabled", c.StandaloneEnabled)
	kv("reconfigEnabled", c.ReconfigEnabled)
	kv("admin.enableServer", c.AdminEnableServer)
	kv("admin.serverAddress", c.AdminServerAddress)
	kv("admin.serverPort", c.AdminServerPort)
	kv("admin.commandURL", c.AdminCommandURL)
	if c.MetricsProviderClassName != "" {
		kv("metricsProvider.className", c.MetricsProviderClassName)
	}
	kv("metricsProvider.httpHost", c.MetricsProviderHTTPHost)
	kv("metricsProvider.httpPort", c.MetricsProviderHTTPPort)
	if c.DynamicConfigFile != "" {
		kv("dynamicConfigFile", c.DynamicConfigFile)
	} else {
		for _, s := range c.Servers {
			kv("server."+strconv.FormatInt(s.ID, 10), s)
		}
	}
	for _, k := range c.Unknown {
		if v, ok := c.Raw[k]; ok {
			fmt.Fprintf(&b, "%s=%s\n", escapeKey(k), escapeValue(v))
		}
	}
	return b.String()
}

// escapeKey protects the characters that end a key.
func escapeKey(k string) string {
	return strings.NewReplacer(`\`, `\\`, "=", `\=`, ":", `\:`, " ", `\ `, "\t", `\t`, "#", `\#`, "!", `\!`).Replace(k)
}

// ConfStatus holds the run-time facts the conf four-letter word reports
// beside the configuration.
type ConfStatus struct {
	SnapDir       string // directory holding snapshots; "" = DataDir made absolute
	LogDir        string // directory holding the transaction log; "" = TxnLogDir made absolute
	DataDirSize   int64  // bytes in SnapDir
	DataLogSize   int64  // bytes in LogDir
	ClientPort    int    // port actually bound; 0 = the configured one
	ConfigVersion int64  // version of the membership, shown in hex (ensemble only)
}

// FormatConf renders the answer to the conf four-letter word in Apache
// ZooKeeper 3.8's format: "key=value" lines for clientPort, secureClientPort
// (always -1), dataDir, dataDirSize, dataLogDir, dataLogSize, tickTime,
// maxClientCnxns, min/maxSessionTimeout, clientPortListenBacklog (-1) and
// serverId (0 when standalone); an ensemble member adds initLimit, syncLimit,
// electionAlg, electionPort, quorumPort, peerType (0 participant, 1 observer)
// and "membership: " followed by the server lines and "version=<hex>" with no
// final newline.
func (c *Config) FormatConf(st ConfStatus) string {
	snapDir, logDir := st.SnapDir, st.LogDir
	if snapDir == "" {
		snapDir = absPath(c.DataDir)
	}
	if logDir == "" {
		logDir = absPath(c.TxnLogDir())
	}
	port := st.ClientPort
	if port == 0 {
		port = c.ClientPort
		if s, ok := c.Self(); ok && s.ClientAddr != "" {
			if i := strings.LastIndex(s.ClientAddr, ":"); i >= 0 {
				port, _ = strconv.Atoi(s.ClientAddr[i+1:])
			}
		}
	}
	min, max := c.SessionTimeouts()
	serverID := int64(0)
	if c.Distributed() {
		serverID = c.MyID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "clientPort=%d\nsecureClientPort=-1\n", port)
	fmt.Fprintf(&b, "dataDir=%s\ndataDirSize=%d\n", snapDir, st.DataDirSize)
	fmt.Fprintf(&b, "dataLogDir=%s\ndataLogSize=%d\n", logDir, st.DataLogSize)
	fmt.Fprintf(&b, "tickTime=%d\nmaxClientCnxns=%d\n", c.TickTime.Milliseconds(), c.MaxClientCnxns)
	fmt.Fprintf(&b, "minSessionTimeout=%d\nmaxSessionTimeout=%d\n", min.Milliseconds(), max.Milliseconds())
	fmt.Fprintf(&b, "clientPortListenBacklog=-1\nserverId=%d\n", serverID)
	if !c.Distributed() {
		return b.String()
	}
	self, _ := c.Self()
	peerType := 0
	if c.IsObserver() {
		peerType = 1
	}
	fmt.Fprintf(&b, "initLimit=%d\nsyncLimit=%d\nelectionAlg=3\n", c.InitLimit, c.SyncLimit)
	fmt.Fprintf(&b, "electionPort=%d\nquorumPort=%d\npeerType=%d\n", self.ElectionPort, self.QuorumPort, peerType)
	b.WriteString("membership: \n")
	b.WriteString(c.Membership(st.ConfigVersion))
	return b.String()
}

// Membership renders the server lines the way Apache ZooKeeper shows them in
// /zookeeper/config and the conf command: "server.N=<Server.String()>" per
// server in id order, then "version=<hex>", without a final newline.
func (c *Config) Membership(version int64) string {
	var b strings.Builder
	for _, s := range c.Servers {
		fmt.Fprintf(&b, "server.%d=%s\n", s.ID, s)
	}
	fmt.Fprintf(&b, "version=%x", version)
	return b.String()
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
