package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Defaults that are not simply Go zero values.
const (
	// DefaultTickTime is Apache ZooKeeper's tick when zoo.cfg has no tickTime.
	DefaultTickTime = 3000 * time.Millisecond
	// SampleTickTime is the tick of the sample zoo.cfg, used by Default.
	SampleTickTime = 2000 * time.Millisecond
	// DefaultClientPort is the conventional client port.
	DefaultClientPort = 2181
	// DefaultJuteMaxBuffer is jute.maxbuffer's default (0xfffff bytes).
	DefaultJuteMaxBuffer = 0xfffff
	// MinSnapRetainCount is the smallest autopurge.snapRetainCount honoured.
	MinSnapRetainCount = 3
	// PIDFileName is the name of the pid file zkServer.sh keeps in dataDir.
	PIDFileName = "zookeeper_server.pid"
)

// PeerType is the role a server asks for with peerType=.
type PeerType int

// Peer types. The zero value is Participant.
const (
	Participant PeerType = iota // a voting member
	Observer                    // a non-voting member
)

// String returns "participant" or "observer".
func (p PeerType) String() string {
	if p == Observer {
		return "observer"
	}
	return "participant"
}

// Config is a parsed zoo.cfg (plus dataDir/myid). Durations given in
// milliseconds in zoo.cfg are time.Duration here. Fields that Apache derives
// from others stay zero when unset and are resolved by accessor methods
// (SessionTimeouts, TxnLogDir, ClientAddr), so changing TickTime or DataDir
// after parsing keeps them consistent.
//
// Keys may carry the "zookeeper." prefix that system properties use (e.g.
// zookeeper.4lw.commands.whitelist); it is stripped before matching.
type Config struct {
	// File is the path the configuration was read from, used in error
	// messages; "" for Default.
	File string

	TickTime  time.Duration // tickTime (ms)
	InitLimit int           // initLimit, in ticks
	SyncLimit int           // syncLimit, in ticks

	DataDir    string // dataDir: snapshots, myid, the pid file
	DataLogDir string // dataLogDir: transaction log; "" means DataDir (see TxnLogDir)

	ClientPort        int    // clientPort; 0 picks a free port
	ClientPortAddress string // clientPortAddress; "" listens on all interfaces
	MaxClientCnxns    int    // maxClientCnxns: per client IP, 0 = unlimited
	MaxCnxns          int    // maxCnxns: total, 0 = unlimited

	// MinSessionTimeout and MaxSessionTimeout bound negotiated session
	// timeouts; 0 means 2 and 20 ticks (see SessionTimeouts).
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration

	GlobalOutstandingLimit int // globalOutstandingLimit: queued requests before throttling

	// FourLetterWhitelist is 4lw.commands.whitelist; it always contains srvr.
	FourLetterWhitelist WordSet
	// ExtendedTypesEnabled is extendedTypesEnabled: TTL nodes.
	ExtendedTypesEnabled bool
	// ReadOnlyModeEnabled is readonlymode.enabled (a system property in
	// Apache ZooKeeper): an ensemble member without a quorum serves
	// read-only sessions to clients that ask for them.
	ReadOnlyModeEnabled bool

	SnapCount                int           // snapCount: transactions between snapshots (at least 2)
	AutopurgeSnapRetainCount int           // autopurge.snapRetainCount (at least 3)
	AutopurgePurgeInterval   time.Duration // autopurge.purgeInterval (hours, or with a unit suffix); 0 = off
	ForceSync                bool          // forceSync=yes|no: fsync the log before acknowledging

	JuteMaxBuffer          int           // jute.maxbuffer: largest record in bytes
	ContainerCheckInterval time.Duration // znode.container.checkIntervalMs
	ContainerMaxPerMinute  int           // znode.container.maxPerMinute

	// SuperDigest is DigestAuthenticationProvider.superDigest,
	// "super:<base64 sha1>"; "" disables the super user.
	SuperDigest string

	// Servers are the server.N lines (or the dynamic config file's), sorted by ID.
	Servers []Server
	// PeerType is peerType=; the servers list wins when they disagree (see IsObserver).
	PeerType PeerType
	// MyID is the content of dataDir/myid, read by Load when Servers is not
	// empty; 0 when unknown.
	MyID int64

	StandaloneEnabled bool   // standaloneEnabled: one listed server runs standalone
	ReconfigEnabled   bool   // reconfigEnabled: the reconfig operation
	DynamicConfigFile string // dynamicConfigFile: where the server.N lines live instead

	AdminEnableServer  bool   // admin.enableServer
	AdminServerAddress string // admin.serverAddress
	AdminServerPort    int    // admin.serverPort
	AdminCommandURL    string // admin.commandURL

	MetricsProviderClassName string // metricsProvider.className; "" = none
	MetricsProviderHTTPHost  string // metricsProvider.httpHost
	MetricsProviderHTTPPort  int    // metricsProvider.httpPort

	// Raw holds every key/value pair as written (keys untouched, values
	// trimmed); the last of duplicate keys wins.
	Raw map[string]string
	// Unknown lists, in file order, the keys zkgo does not use. They are not
	// an error: the caller should warn about them.
	Unknown []string
	// Warnings are problems zkgo corrected or ignored, as Apache ZooKeeper
	// does (e.g. a snapRetainCount below 3); the caller should log them.
	Warnings []string

	// seen holds the canonical keys that were set explicitly.
	seen map[string]bool
}

// newConfig returns the settings Apache ZooKeeper uses for keys a zoo.cfg
// leaves out.
func newConfig() *Config {
	return &Config{
		TickTime:                 DefaultTickTime,
		InitLimit:                10,
		SyncLimit:                5,
		ClientPort:               DefaultClientPort,
		MaxClientCnxns:           60,
		GlobalOutstandingLimit:   1000,
		FourLetterWhitelist:      WordSet{"srvr": {}},
		SnapCount:                100000,
		AutopurgeSnapRetainCount: MinSnapRetainCount,
		ForceSync:                true,
		JuteMaxBuffer:            DefaultJuteMaxBuffer,
		ContainerCheckInterval:   60 * time.Second,
		ContainerMaxPerMinute:    10000,
		StandaloneEnabled:        true,
		AdminEnableServer:        true,
		AdminServerAddress:       "0.0.0.0",
		AdminServerPort:          8080,
		AdminCommandURL:          "/commands",
		MetricsProviderHTTPHost:  "0.0.0.0",
		MetricsProviderHTTPPort:  7000,
		Raw:                      map[string]string{},
		seen:                     map[string]bool{},
	}
}

// Default is the configuration used when no zoo.cfg is found: a standalone
// server like the sample zoo.cfg (tickTime 2000 ms) but reachable from this
// host only: clients on 127.0.0.1:2181, the AdminServer on 127.0.0.1:8080,
// and data in "data" relative to the working directory.
func Default() *Config {
	c := newConfig()
	c.TickTime = SampleTickTime
	c.DataDir = "data"
	c.ClientPortAddress = "127.0.0.1"
	c.AdminServerAddress = "127.0.0.1"
	return c
}

// Parse reads a zoo.cfg in java.util.Properties syntax. name is used in
// error messages. Values are type-checked; cross-field checks are left to
// Validate, and dataDir/myid and dynamicConfigFile are read by Load, not here.
// A key Apache ZooKeeper leaves out gets Apache's default (tickTime 3000 ms).
func Parse(r io.Reader, name string) (*Config, error) {
	props, err := readProperties(r)
	if err != nil {
		return nil, propertiesError(name, err)
	}
	c := newConfig()
	c.File = name
	servers := map[int64]string{} // id -> the key that defined it
	for _, p := range props {
		key := strings.TrimSpace(p.Key)
		value := strings.TrimFunc(p.Value, func(r rune) bool { return r <= ' ' })
		c.Raw[key] = value
		if err := c.apply(key, value, servers); err != nil {
			return nil, &Error{File: name, Line: p.Line, Key: key, Msg: err.Error()}
		}
	}
	if c.seen["dynamicConfigFile"] && len(c.Servers) > 0 {
		return nil, &Error{File: name, Key: "server." + strconv.FormatInt(c.Servers[0].ID, 10),
			Msg: "must be in the dynamic config file when dynamicConfigFile is set"}
	}
	c.dedupUnknown()
	if c.AutopurgeSnapRetainCount < MinSnapRetainCount {
		c.warnf("autopurge.snapRetainCount %d is below %d; using %d", c.AutopurgeSnapRetainCount, MinSnapRetainCount, MinSnapRetainCount)
		c.AutopurgeSnapRetainCount = MinSnapRetainCount
	}
	if c.SnapCount < 2 {
		c.warnf("snapCount %d is below 2; using 2", c.SnapCount)
		c.SnapCount = 2
	}
	return c, nil
}

// propertiesError turns a readProperties error into an *Error, or wraps an
// I/O error.
func propertiesError(name string, err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return &Error{File: name, Line: se.line, Msg: se.msg}
	}
	return fmt.Errorf("config: reading %s: %w", name, err)
}

func (c *Config) warnf(format string, args ...any) {
	c.Warnings = append(c.Warnings, fmt.Sprintf(format, args...))
}

func (c *Config) dedupUnknown() {
	seen := map[string]bool{}
	out := c.Unknown[:0]
	for _, k := range c.Unknown {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	c.Unknown = out
}

// canonicalKey strips the "zookeeper." system-property prefix from keys zkgo
// knows under their short name.
func canonicalKey(key string) string {
	if short, ok := strings.CutPrefix(key, "zookeeper."); ok && isKnownKey(short) {
		return short
	}
	return key
}

func isKnownKey(key string) bool {
	switch key {
	case "tickTime", "initLimit", "syncLimit", "dataDir", "dataLogDir", "clientPort",
		"clientPortAddress", "maxClientCnxns", "maxCnxns", "minSessionTimeout",
		"maxSessionTimeout", "globalOutstandingLimit", "4lw.commands.whitelist",
		"extendedTypesEnabled", "readonlymode.enabled", "snapCount", "autopurge.snapRetainCount",
		"autopurge.purgeInterval", "forceSync", "jute.maxbuffer",
		"znode.container.checkIntervalMs", "znode.container.maxPerMinute",
		"DigestAuthenticationProvider.superDigest", "peerType", "standaloneEnabled",
		"reconfigEnabled", "dynamicConfigFile", "admin.enableServer",
		"admin.serverAddress", "admin.serverPort", "admin.commandURL",
		"metricsProvider.className", "metricsProvider.httpHost",
		"metricsProvider.httpPort", "electionAlg":
		return true
	}
	return false
}

// apply sets the field for one key. servers tracks server ids seen so far.
func (c *Config) apply(rawKey, v string, servers map[int64]string) error {
	key := canonicalKey(rawKey)
	if strings.HasPrefix(key, "server.") {
		return c.applyServer(rawKey, key, v, servers)
	}
	if strings.HasPrefix(key, "group.") || strings.HasPrefix(key, "weight.") {
		return fmt.Errorf("hierarchical quorums (group./weight.) are not supported")
	}
	if !isKnownKey(key) {
		c.Unknown = append(c.Unknown, rawKey)
		return nil
	}
	c.seen[key] = true
	var err error
	switch key {
	case "tickTime":
		c.TickTime, err = parseMillis(v, 1)
	case "initLimit":
		c.InitLimit, err = parseInt(v, 1)
	case "syncLimit":
		c.SyncLimit, err = parseInt(v, 1)
	case "dataDir":
		c.DataDir, err = nonEmpty(v)
	case "dataLogDir":
		c.DataLogDir, err = nonEmpty(v)
	case "clientPort":
		c.ClientPort, err = parseInt(v, 0)
		if err == nil && c.ClientPort > 65535 {
			err = fmt.Errorf("port %d out of range 0-65535", c.ClientPort)
		}
	case "clientPortAddress":
		c.ClientPortAddress = v
	case "maxClientCnxns":
		c.MaxClientCnxns, err = parseInt(v, 0)
	case "maxCnxns":
		c.MaxCnxns, err = parseInt(v, 0)
	case "minSessionTimeout":
		c.MinSessionTimeout, err = parseMillis(v, 1)
	case "maxSessionTimeout":
		c.MaxSessionTimeout, err = parseMillis(v, 1)
	case "globalOutstandingLimit":
		c.GlobalOutstandingLimit, err = parseInt(v, 1)
	case "4lw.commands.whitelist":
		c.FourLetterWhitelist = parseWordSet(v)
		if unknown := c.FourLetterWhitelist.unknownWords(); len(unknown) > 0 {
			c.warnf("%s: unknown four-letter words %s", rawKey, strings.Join(unknown, ", "))
		}
	case "extendedTypesEnabled":
		c.ExtendedTypesEnabled, err = parseBool(v)
	case "readonlymode.enabled":
		c.ReadOnlyModeEnabled, err = parseBool(v)
	case "snapCount":
		c.SnapCount, err = parseJavaInt(v, 0)
	case "autopurge.snapRetainCount":
		c.AutopurgeSnapRetainCount, err = parseInt(v, 0)
	case "autopurge.purgeInterval":
		c.AutopurgePurgeInterval, err = parseInterval(v)
	case "forceSync":
		c.ForceSync, err = parseYesNo(v)
	case "jute.maxbuffer":
		c.JuteMaxBuffer, err = parseJavaInt(v, 1)
	case "znode.container.checkIntervalMs":
		var ms int
		ms, err = parseJavaInt(v, 1)
		c.ContainerCheckInterval = time.Duration(ms) * time.Millisecond
	case "znode.container.maxPerMinute":
		c.ContainerMaxPerMinute, err = parseJavaInt(v, 1)
	case "DigestAuthenticationProvider.superDigest":
		if v != "" && !strings.Contains(v, ":") {
			err = fmt.Errorf("invalid digest %q: want user:base64-sha1", v)
		}
		c.SuperDigest = v
	case "peerType":
		switch strings.ToLower(v) {
		case "participant":
			c.PeerType = Participant
		case "observer":
			c.PeerType = Observer
		default:
			err = fmt.Errorf("invalid peer type %q: want participant or observer", v)
		}
	case "standaloneEnabled":
		c.StandaloneEnabled, err = parseBool(v)
	case "reconfigEnabled":
		c.ReconfigEnabled, err = parseBool(v)
	case "dynamicConfigFile":
		c.DynamicConfigFile, err = nonEmpty(v)
	case "admin.enableServer":
		c.AdminEnableServer, err = parseBool(v)
	case "admin.serverAddress":
		c.AdminServerAddress = v
	case "admin.serverPort":
		c.AdminServerPort, err = parsePort(v)
	case "admin.commandURL":
		c.AdminCommandURL = v
	case "metricsProvider.className":
		c.MetricsProviderClassName = v
	case "metricsProvider.httpHost":
		c.MetricsProviderHTTPHost = v
	case "metricsProvider.httpPort":
		c.MetricsProviderHTTPPort, err = parsePort(v)
	case "electionAlg":
		var alg int
		if alg, err = parseInt(v, 0); err == nil && alg != 3 {
			err = fmt.Errorf("invalid value %q: only 3 is supported", v)
		}
	}
	return err
}

func (c *Config) applyServer(rawKey, key, v string, servers map[int64]string) error {
	id, err := strconv.ParseInt(strings.TrimPrefix(key, "server."), 10, 64)
	if err != nil || id < 1 {
		return fmt.Errorf("invalid server id %q: want a positive integer", strings.TrimPrefix(key, "server."))
	}
	s, err := parseServer(id, v, func(w string) { c.Warnings = append(c.Warnings, w) })
	if err != nil {
		return err
	}
	if prev, dup := servers[id]; dup && prev != rawKey {
		return fmt.Errorf("server id %d is already defined by %s", id, prev)
	}
	servers[id] = rawKey
	i := sort.Search(len(c.Servers), func(i int) bool { return c.Servers[i].ID >= id })
	if i < len(c.Servers) && c.Servers[i].ID == id {
		c.Servers[i] = s // the same key repeated: the last one wins
		return nil
	}
	c.Servers = append(c.Servers, Server{})
	copy(c.Servers[i+1:], c.Servers[i:])
	c.Servers[i] = s
	return nil
}

// parseInt parses a decimal int32 (Java's Integer.parseInt) that is at least min.
func parseInt(v string, min int) (int, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid integer %q", v)
	}
	return checkMin(int(n), min, v)
}

// parseJavaInt parses an int32 as Java's Integer.decode does for values read
// from system properties: decimal, 0x/0X/# hex, or 0-prefixed octal.
func parseJavaInt(v string, min int) (int, error) {
	s := v
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		s, neg = rest, true
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"), strings.HasPrefix(s, "0X"):
		s, base = s[2:], 16
	case strings.HasPrefix(s, "#"):
		s, base = s[1:], 16
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	if s == "" || strings.ContainsAny(s, "+-_") {
		return 0, fmt.Errorf("invalid integer %q", v)
	}
	n, err := strconv.ParseInt(s, base, 64)
	if neg {
		n = -n
	}
	if err != nil || n < -1<<31 || n > 1<<31-1 {
		return 0, fmt.Errorf("invalid integer %q", v)
	}
	return checkMin(int(n), min, v)
}

func checkMin(n, min int, v string) (int, error) {
	if n < min {
		return 0, fmt.Errorf("invalid value %q: must be at least %d", v, min)
	}
	return n, nil
}

// parseMillis parses a whole number of milliseconds.
func parseMillis(v string, min int) (time.Duration, error) {
	n, err := parseInt(v, min)
	return time.Duration(n) * time.Millisecond, err
}

// parseInterval parses autopurge.purgeInterval: a bare number of hours, or a
// number with one of the suffixes ms, s, m, h, d (case-insensitive).
func parseInterval(v string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	lower := strings.ToLower(v)
	unit := time.Hour
	num := v
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			num, unit = v[:len(v)-len(u.suffix)], u.unit
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid time interval %q: want hours, or a number with ms, s, m, h or d", v)
	}
	return time.Duration(n) * unit, nil
}

// formatInterval is the inverse of parseInterval.
func formatInterval(d time.Duration) string {
	if d%time.Hour == 0 {
		return strconv.FormatInt(int64(d/time.Hour), 10)
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q: want true or false", v)
}

func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("invalid value %q: want yes or no", v)
}

func nonEmpty(v string) (string, error) {
	if v == "" {
		return "", fmt.Errorf("empty value")
	}
	return v, nil
}

// SessionTimeouts returns the effective bounds for negotiated session
// timeouts: MinSessionTimeout and MaxSessionTimeout, or 2 and 20 ticks where
// they are zero.
func (c *Config) SessionTimeouts() (min, max time.Duration) {
	min, max = c.MinSessionTimeout, c.MaxSessionTimeout
	if min == 0 {
		min = 2 * c.TickTime
	}
	if max == 0 {
		max = 20 * c.TickTime
	}
	return min, max
}

// TxnLogDir is DataLogDir, or DataDir when DataLogDir is empty.
func (c *Config) TxnLogDir() string {
	if c.DataLogDir != "" {
		return c.DataLogDir
	}
	return c.DataDir
}

// Self returns this server's entry in Servers, found by MyID.
func (c *Config) Self() (Server, bool) {
	for _, s := range c.Servers {
		if s.ID == c.MyID && c.MyID != 0 {
			return s, true
		}
	}
	return Server{}, false
}

// Voters counts the participants (non-observers) in Servers.
func (c *Config) Voters() int {
	n := 0
	for _, s := range c.Servers {
		if !s.Observer {
			n++
		}
	}
	return n
}

// Distributed reports whether this server runs as an ensemble member: more
// than one participant is listed, or standaloneEnabled=false and at least
// one is. Otherwise it runs standalone and the server lines are ignored.
func (c *Config) Distributed() bool {
	v := c.Voters()
	return v > 1 || (v >= 1 && !c.StandaloneEnabled)
}

// IsObserver reports whether this server is an observer: its server line says
// so or, when it has none, peerType=observer.
func (c *Config) IsObserver() bool {
	if s, ok := c.Self(); ok {
		return s.Observer
	}
	return c.PeerType == Observer
}

// ClientAddr is the address to accept clients on, for net.Listen: the
// client address of this server's server.N line when it has one, else
// ClientPortAddress:ClientPort (":2181" style when the address is empty).
func (c *Config) ClientAddr() string {
	if s, ok := c.Self(); ok && s.ClientAddr != "" {
		return s.ClientAddr
	}
	return net.JoinHostPort(c.ClientPortAddress, strconv.Itoa(c.ClientPort))
}
