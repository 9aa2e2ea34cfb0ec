package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Load reads the zoo.cfg at path, then the dynamicConfigFile it names (if
// any) and, when servers are listed, dataDir/myid; it returns the result of
// Validate. I/O errors are wrapped (errors.Is(err, fs.ErrNotExist) works);
// configuration errors match ErrInvalid.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	c, err := Parse(f, path)
	if err != nil {
		return nil, err
	}
	if c.DynamicConfigFile != "" {
		if err := c.loadDynamic(c.DynamicConfigFile); err != nil {
			return nil, err
		}
	}
	if len(c.Servers) > 0 {
		if err := c.loadMyID(); err != nil {
			return nil, err
		}
		if s, ok := c.Self(); ok && s.Observer != (c.PeerType == Observer) {
			c.warnf("peerType=%s disagrees with server.%d; using the server line", c.PeerType, s.ID)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// MyIDPath is the path of the myid file in dataDir.
func (c *Config) MyIDPath() string { return filepath.Join(c.DataDir, "myid") }

// PIDFilePath is where zkServer.sh keeps the server's pid: dataDir/zookeeper_server.pid.
func (c *Config) PIDFilePath() string { return filepath.Join(c.DataDir, PIDFileName) }

// loadMyID sets MyID from dataDir/myid, leaving it 0 when the file does not
// exist (Validate reports that if the server needs it).
func (c *Config) loadMyID() error {
	path := c.MyIDPath()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: reading %s: %w", path, err)
	}
	line = strings.TrimSpace(line)
	id, perr := strconv.ParseInt(line, 10, 64)
	if perr != nil || id < 1 {
		return &Error{File: path, Msg: fmt.Sprintf("invalid server id %q: want a positive integer", line)}
	}
	c.MyID = id
	return nil
}

// loadDynamic reads the server.N lines from a dynamic config file. Like
// Apache ZooKeeper it accepts nothing else in that file.
func (c *Config) loadDynamic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: dynamicConfigFile: %w", err)
	}
	defer f.Close()
	props, err := readProperties(f)
	if err != nil {
		return propertiesError(path, err)
	}
	servers := map[int64]string{}
	for _, p := range props {
		key := strings.TrimSpace(p.Key)
		value := strings.TrimSpace(p.Value)
		if !strings.HasPrefix(key, "server.") {
			return &Error{File: path, Line: p.Line, Key: key, Msg: "not allowed in a dynamic config file (only server.N lines)"}
		}
		if err := c.applyServer(key, key, value, servers); err != nil {
			return &Error{File: path, Line: p.Line, Key: key, Msg: err.Error()}
		}
	}
	return nil
}
