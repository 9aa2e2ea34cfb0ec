package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Server is one ensemble member, from a line
//
//	server.N=host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]
//
// In zkgo the quorum port carries the Raft transport and the election port the
// cluster RPC (forwarding, session touches, sync).
type Server struct {
	ID           int64  // N, at least 1
	Host         string // host name or IP, without IPv6 brackets
	QuorumPort   int
	ElectionPort int
	Observer     bool   // ":observer": a non-voting member
	ClientAddr   string // "host:port" from the part after ';' ("0.0.0.0" when only a port is given); "" when absent
}

// QuorumAddr is Host:QuorumPort, ready for net.Dial.
func (s Server) QuorumAddr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.QuorumPort))
}

// ElectionAddr is Host:ElectionPort, ready for net.Dial.
func (s Server) ElectionAddr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.ElectionPort))
}

// String is the value of the server's line in Apache ZooKeeper's canonical
// form, as shown by the conf command and stored in /zookeeper/config, e.g.
// "10.0.0.1:2888:3888:participant;0.0.0.0:2181".
func (s Server) String() string {
	role := "participant"
	if s.Observer {
		role = "observer"
	}
	host := s.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := fmt.Sprintf("%s:%d:%d:%s", host, s.QuorumPort, s.ElectionPort, role)
	if s.ClientAddr != "" {
		out += ";" + s.ClientAddr
	}
	return out
}

// parseServer parses the value of a server.N line. Secure client ports (a
// third ';' part) are not supported and reported through warn.
func parseServer(id int64, value string, warn func(string)) (Server, error) {
	s := Server{ID: id}
	parts := strings.Split(value, ";")
	if len(parts) > 3 {
		return s, fmt.Errorf("invalid server address %q: want host:port:port[:type][;[host:]clientPort]", value)
	}
	if strings.Contains(parts[0], "|") {
		return s, fmt.Errorf("invalid server address %q: multiple addresses per server are not supported", value)
	}
	fields, err := splitHostPort(parts[0])
	if err != nil {
		return s, fmt.Errorf("invalid server address %q: %v", value, err)
	}
	if len(fields) < 3 || len(fields) > 4 {
		return s, fmt.Errorf("invalid server address %q: want host:port:port[:participant|observer]", value)
	}
	s.Host = fields[0]
	if s.Host == "" {
		return s, fmt.Errorf("invalid server address %q: empty host", value)
	}
	if s.QuorumPort, err = parsePort(fields[1]); err != nil {
		return s, fmt.Errorf("invalid server address %q: quorum port: %v", value, err)
	}
	if s.ElectionPort, err = parsePort(fields[2]); err != nil {
		return s, fmt.Errorf("invalid server address %q: election port: %v", value, err)
	}
	if s.QuorumPort == s.ElectionPort {
		return s, fmt.Errorf("invalid server address %q: quorum and election ports must differ", value)
	}
	if len(fields) == 4 {
		switch strings.ToLower(strings.TrimSpace(fields[3])) {
		case "participant":
		case "observer":
			s.Observer = true
		default:
			return s, fmt.Errorf("invalid server address %q: unknown peer type %q", value, fields[3])
		}
	}
	if len(parts) >= 2 && parts[1] != "" {
		cf, err := splitHostPort(parts[1])
		if err != nil || len(cf) > 2 {
			return s, fmt.Errorf("invalid client address %q in %q", parts[1], value)
		}
		host := "0.0.0.0"
		if len(cf) == 2 {
			host = cf[0]
		}
		port, err := parsePort(cf[len(cf)-1])
		if err != nil {
			return s, fmt.Errorf("invalid client address %q in %q: %v", parts[1], value, err)
		}
		s.ClientAddr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	if len(parts) == 3 && parts[2] != "" {
		warn(fmt.Sprintf("server.%d: secure client address %q ignored: TLS client ports are not supported", id, parts[2]))
	}
	return s, nil
}

// splitHostPort splits "host:a:b" or "[v6]:a:b" on colons, keeping a
// bracketed IPv6 host whole and dropping its brackets.
func splitHostPort(s string) ([]string, error) {
	if !strings.HasPrefix(s, "[") {
		return strings.Split(s, ":"), nil
	}
	end := strings.Index(s, "]")
	if end < 0 {
		return nil, fmt.Errorf("%q starts with '[' but has no matching ']'", s)
	}
	rest := s[end+1:]
	if !strings.HasPrefix(rest, ":") || len(rest) == 1 {
		return nil, fmt.Errorf("%q has no port after the address", s)
	}
	return append([]string{s[1:end]}, strings.Split(rest[1:], ":")...), nil
}

// parsePort parses a TCP port number, 1 to 65535.
func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d out of range 1-65535", n)
	}
	return n, nil
}
