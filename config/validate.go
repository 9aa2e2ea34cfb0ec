package config

import (
	"fmt"
	"net"
	"strconv"
)

// Validate checks the settings against each other and returns the first
// problem as an *Error naming the key and c.File, or nil. It checks what
// Apache ZooKeeper refuses to start with (no dataDir, minSessionTimeout above
// maxSessionTimeout, an ensemble without this server's myid, observers
// without participants, ...) and the ranges zkgo needs.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &Error{File: c.File, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if c.TickTime <= 0 {
		return bad("tickTime", "must be positive, not %d", c.TickTime.Milliseconds())
	}
	if c.DataDir == "" {
		return bad("dataDir", "is not set")
	}
	if c.ClientPort < 0 || c.ClientPort > 65535 {
		return bad("clientPort", "port %d out of range 0-65535", c.ClientPort)
	}
	if c.MinSessionTimeout < 0 || c.MaxSessionTimeout < 0 {
		return bad("minSessionTimeout", "session timeouts must not be negative")
	}
	if min, max := c.SessionTimeouts(); min > max {
		return bad("minSessionTimeout", "%d ms is larger than maxSessionTimeout %d ms", min.Milliseconds(), max.Milliseconds())
	}
	if c.MaxClientCnxns < 0 {
		return bad("maxClientCnxns", "must not be negative, not %d", c.MaxClientCnxns)
	}
	if c.MaxCnxns < 0 {
		return bad("maxCnxns", "must not be negative, not %d", c.MaxCnxns)
	}
	if c.GlobalOutstandingLimit < 1 {
		return bad("globalOutstandingLimit", "must be at least 1, not %d", c.GlobalOutstandingLimit)
	}
	if c.SnapCount < 2 {
		return bad("snapCount", "must be at least 2, not %d", c.SnapCount)
	}
	if c.AutopurgeSnapRetainCount < MinSnapRetainCount {
		return bad("autopurge.snapRetainCount", "must be at least %d, not %d", MinSnapRetainCount, c.AutopurgeSnapRetainCount)
	}
	if c.AutopurgePurgeInterval < 0 {
		return bad("autopurge.purgeInterval", "must not be negative")
	}
	if c.JuteMaxBuffer < 1 {
		return bad("jute.maxbuffer", "must be positive, not %d", c.JuteMaxBuffer)
	}
	if c.ContainerCheckInterval <= 0 {
		return bad("znode.container.checkIntervalMs", "must be positive")
	}
	if c.ContainerMaxPerMinute < 1 {
		return bad("znode.container.maxPerMinute", "must be positive, not %d", c.ContainerMaxPerMinute)
	}
	if c.AdminEnableServer && (c.AdminServerPort < 0 || c.AdminServerPort > 65535) {
		return bad("admin.serverPort", "port %d out of range 0-65535", c.AdminServerPort)
	}
	if c.MetricsProviderHTTPPort < 0 || c.MetricsProviderHTTPPort > 65535 {
		return bad("metricsProvider.httpPort", "port %d out of range 0-65535", c.MetricsProviderHTTPPort)
	}
	return c.validateServers()
}

func (c *Config) validateServers() error {
	bad := func(key, format string, args ...any) error {
		return &Error{File: c.File, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	// Session ids carry the id of the server that made them in their top
	// byte, so two servers' sessions collide unless ids fit in it; with TTL
	// nodes 255 is reserved too (the TTL marker in ephemeralOwner), as in
	// Apache ZooKeeper.
	maxID := int64(MaxServerID)
	if c.ExtendedTypesEnabled {
		maxID = MaxServerIDExtended
	}
	if c.MyID > maxID {
		return bad("dataDir", "%s holds server id %d: server ids must be at most %d%s", c.MyIDPath(), c.MyID, maxID, extendedNote(c.ExtendedTypesEnabled))
	}
	seen := map[int64]bool{}
	for _, s := range c.Servers {
		key := "server." + strconv.FormatInt(s.ID, 10)
		if s.ID < 1 || seen[s.ID] {
			return bad(key, "server ids must be positive and unique")
		}
		if s.ID > maxID {
			return bad(key, "server ids must be at most %d%s", maxID, extendedNote(c.ExtendedTypesEnabled))
		}
		seen[s.ID] = true
		if s.QuorumPort < 1 || s.QuorumPort > 65535 || s.ElectionPort < 1 || s.ElectionPort > 65535 || s.QuorumPort == s.ElectionPort {
			return bad(key, "invalid ports %d:%d", s.QuorumPort, s.ElectionPort)
		}
	}
	voters, observers := c.Voters(), len(c.Servers)-c.Voters()
	switch {
	case voters == 0 && !c.StandaloneEnabled:
		return bad("standaloneEnabled", "is false but no participant server.N is listed")
	case voters == 0 && observers > 0:
		return bad("server."+strconv.FormatInt(c.Servers[0].ID, 10), "observers without participants")
	case voters == 1 && c.StandaloneEnabled && observers > 0:
		return bad("server."+strconv.FormatInt(c.Servers[0].ID, 10), "observers need an ensemble of at least 2 participants or standaloneEnabled=false")
	}
	if !c.Distributed() {
		return nil
	}
	if c.MyID == 0 {
		return bad("dataDir", "%s is missing: an ensemble member needs its server id", c.MyIDPath())
	}
	self, ok := c.Self()
	if !ok {
		return bad("server."+strconv.FormatInt(c.MyID, 10), "myid is %d (%s) but there is no server.%d line", c.MyID, c.MyIDPath(), c.MyID)
	}
	if self.ClientAddr != "" && c.seen["clientPort"] {
		// Like Apache: a static clientPort(Address) must agree with the
		// server line's client address.
		host, port, _ := net.SplitHostPort(self.ClientAddr)
		static := net.JoinHostPort(c.ClientPortAddress, strconv.Itoa(c.ClientPort))
		if port != strconv.Itoa(c.ClientPort) || (c.ClientPortAddress != "" && !isWildcard(c.ClientPortAddress) && c.ClientPortAddress != host) {
			return bad("clientPort", "%s differs from the client address %s of server.%d", static, self.ClientAddr, self.ID)
		}
	}
	return nil
}

func isWildcard(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// Largest server ids: a session id holds its server's id in its top byte,
// and with extended types (TTL nodes) 255 is reserved.
const (
	MaxServerID         = 255
	MaxServerIDExtended = 254
)

func extendedNote(extended bool) string {
	if extended {
		return " when extendedTypesEnabled=true"
	}
	return " (session ids hold the server id in one byte)"
}
