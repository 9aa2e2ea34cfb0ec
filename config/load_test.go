package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles creates files (name -> content) under a temp dir; "{dir}" in a
// content is replaced by the dir. It returns the dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(content, "{dir}", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const ensemble = `tickTime=2000
dataDir={dir}/data
clientPort=2181
server.1=127.0.0.1:2888:3888
server.2=127.0.0.2:2888:3888
server.3=127.0.0.3:2888:3888:observer
`

func TestLoadEnsemble(t *testing.T) {
	dir := writeFiles(t, map[string]string{"zoo.cfg": ensemble, "data/myid": "2\n"})
	c, err := Load(filepath.Join(dir, "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if c.MyID != 2 || !c.Distributed() || c.IsObserver() {
		t.Errorf("MyID = %d, Distributed = %v, IsObserver = %v; want 2, true, false", c.MyID, c.Distributed(), c.IsObserver())
	}
	self, ok := c.Self()
	if !ok || self.Host != "127.0.0.2" {
		t.Errorf("Self() = %+v, %v", self, ok)
	}
	if c.File != filepath.Join(dir, "zoo.cfg") {
		t.Errorf("File = %q", c.File)
	}
}

func TestLoadObserverPeerTypeMismatchWarns(t *testing.T) {
	dir := writeFiles(t, map[string]string{"zoo.cfg": ensemble + "peerType=participant\n", "data/myid": "3"})
	c, err := Load(filepath.Join(dir, "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsObserver() || len(c.Warnings) != 1 {
		t.Errorf("IsObserver() = %v, Warnings = %q; want true and one warning", c.IsObserver(), c.Warnings)
	}
}

func TestLoadDynamicConfig(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"zoo.cfg":                   "dataDir={dir}/data\ndynamicConfigFile={dir}/zoo.cfg.dynamic.100000000\n",
		"zoo.cfg.dynamic.100000000": "server.1=a:1:2;2181\nserver.2=b:1:2;2181\nserver.3=c:1:2;2181\n",
		"data/myid":                 "1",
	})
	c, err := Load(filepath.Join(dir, "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Servers) != 3 || c.ClientAddr() != "0.0.0.0:2181" {
		t.Errorf("Servers = %+v, ClientAddr = %s", c.Servers, c.ClientAddr())
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // substring of the error; "{dir}" is the temp dir
	}{
		{"missing dataDir", map[string]string{"zoo.cfg": "tickTime=2000"}, "{dir}/zoo.cfg: dataDir: is not set"},
		{"min above max", map[string]string{"zoo.cfg": "dataDir=/d\nminSessionTimeout=5000\nmaxSessionTimeout=4000"},
			"{dir}/zoo.cfg: minSessionTimeout: 5000 ms is larger than maxSessionTimeout 4000 ms"},
		{"min above derived max", map[string]string{"zoo.cfg": "dataDir=/d\ntickTime=100\nminSessionTimeout=5000"},
			"minSessionTimeout: 5000 ms is larger than maxSessionTimeout 2000 ms"},
		{"missing myid", map[string]string{"zoo.cfg": ensemble}, "{dir}/zoo.cfg: dataDir: {dir}/data/myid is missing"},
		{"myid not listed", map[string]string{"zoo.cfg": ensemble, "data/myid": "7"},
			"{dir}/zoo.cfg: server.7: myid is 7 ({dir}/data/myid) but there is no server.7 line"},
		{"bad myid", map[string]string{"zoo.cfg": ensemble, "data/myid": "replace this text"},
			`{dir}/data/myid: invalid server id "replace this text": want a positive integer`},
		{"observers only", map[string]string{"zoo.cfg": "dataDir=/d\nserver.1=a:1:2:observer"}, "server.1: observers without participants"},
		{"standalone disabled without servers", map[string]string{"zoo.cfg": "dataDir=/d\nstandaloneEnabled=false"},
			"standaloneEnabled: is false but no participant server.N is listed"},
		{"client port disagrees", map[string]string{"zoo.cfg": "dataDir={dir}/data\nclientPort=2181\nserver.1=a:1:2;2182\nserver.2=b:1:2;2182", "data/myid": "1"},
			"clientPort: :2181 differs from the client address 0.0.0.0:2182 of server.1"},
		{"dynamic file with other keys", map[string]string{"zoo.cfg": "dataDir=/d\ndynamicConfigFile={dir}/dyn", "dyn": "server.1=a:1:2\ntickTime=1"},
			"{dir}/dyn:2: tickTime: not allowed in a dynamic config file"},
		{"bad value", map[string]string{"zoo.cfg": "dataDir=/d\nsnapCount=lots"}, `{dir}/zoo.cfg:2: snapCount: invalid integer "lots"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, err := Load(filepath.Join(dir, "zoo.cfg"))
			want := strings.ReplaceAll(tt.want, "{dir}", dir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.cfg"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist and not ErrInvalid", err)
	}
}

func TestSingleServerRunsStandalone(t *testing.T) {
	// Like Apache (and HBase's generated configs): one server line with
	// standaloneEnabled=true is a standalone server that needs no myid.
	dir := writeFiles(t, map[string]string{"zoo.cfg": "dataDir={dir}/data\nserver.1=a:1:2"})
	c, err := Load(filepath.Join(dir, "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Distributed() {
		t.Error("Distributed() = true for a single server line")
	}
}
