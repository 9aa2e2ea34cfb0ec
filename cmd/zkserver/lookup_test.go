package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/config"
)

func TestFindConfig(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"etc/zoo.cfg", "etc/other.cfg", "envdir/zoo.cfg", "envdir/alt.cfg", "work/conf/zoo.cfg", "dist/conf/zoo.cfg", "dist/bin/.keep"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(filepath.Join(root, "work"))
	r := func(p string) string { return filepath.Join(root, p) }
	tests := []struct {
		name     string
		flag     string
		arg      string
		env      map[string]string
		exeDir   string
		want     string
		wantErr  string
		notExist bool
	}{
		{name: "flag dir", flag: r("etc"), want: r("etc/zoo.cfg")},
		{name: "flag file", flag: r("etc/other.cfg"), want: r("etc/other.cfg")},
		{name: "flag dir with name arg", flag: r("etc"), arg: "other.cfg", want: r("etc/other.cfg")},
		{name: "flag dir with ZOOCFG", flag: r("etc"), env: map[string]string{"ZOOCFG": "other.cfg"}, want: r("etc/other.cfg")},
		{name: "flag beats env", flag: r("etc"), env: map[string]string{"ZOOCFGDIR": r("envdir")}, want: r("etc/zoo.cfg")},
		{name: "path arg beats everything", flag: r("etc"), arg: r("envdir/alt.cfg"), want: r("envdir/alt.cfg")},
		{name: "env dir", env: map[string]string{"ZOOCFGDIR": r("envdir")}, want: r("envdir/zoo.cfg")},
		{name: "env dir with name arg", arg: "alt.cfg", env: map[string]string{"ZOOCFGDIR": r("envdir")}, want: r("envdir/alt.cfg")},
		{name: "cwd conf", want: "conf/zoo.cfg"},
		{name: "cwd conf before program conf", exeDir: r("dist/bin"), want: "conf/zoo.cfg"},
		{name: "defaults", exeDir: r("dist/bin"), env: map[string]string{"ZOOCFG": "none.cfg"}, want: ""},
		{name: "missing flag dir", flag: r("nope"), wantErr: "--config", notExist: true},
		{name: "flag dir without zoo.cfg", flag: r("dist/bin"), wantErr: "config file in --config directory", notExist: true},
		{name: "missing env file", env: map[string]string{"ZOOCFGDIR": r("etc"), "ZOOCFG": "gone.cfg"}, wantErr: "$ZOOCFGDIR", notExist: true},
		{name: "missing path arg", arg: r("gone/zoo.cfg"), wantErr: "config file", notExist: true},
		{name: "missing name arg", arg: "gone.cfg", wantErr: "config file gone.cfg: not found", notExist: true},
		{name: "file flag with arg", flag: r("etc/zoo.cfg"), arg: "other.cfg", wantErr: "needs a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findConfig(tt.flag, tt.arg, func(k string) string { return tt.env[k] }, tt.exeDir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("findConfig = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				if tt.notExist != errors.Is(err, fs.ErrNotExist) {
					t.Errorf("errors.Is(%v, fs.ErrNotExist) = %v", err, !tt.notExist)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("findConfig = %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	// Beside the program, when the working directory has no conf/.
	t.Chdir(root)
	got, err := findConfig("", "", func(string) string { return "" }, r("dist/bin"))
	if err != nil || got != r("dist/bin/../conf/zoo.cfg") {
		t.Errorf("findConfig from the program dir = %q, %v", got, err)
	}
}

func TestBadConfigExitsTwo(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte("dataDir="+dir+"\n\ntickTime=abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"status", "start", "start-foreground", "stop", "print-cmd"} {
		a, stdout, stderr := testApp(t, nil)
		code := a.run(testContext(t), []string{verb, "--config", cfg})
		want := "Using config: " + cfg + "\nzkserver: " + cfg + `:3: tickTime: invalid integer "abc"` + "\n"
		if code != 2 || stderr.String() != want || stdout.Len() != 0 {
			t.Errorf("zkserver %s with a bad tickTime: exit %d, stdout %q, stderr %q; want exit 2 and stderr %q", verb, code, stdout, stderr, want)
		}
	}
	// A missing explicit config is a usage error too.
	a, _, stderr := testApp(t, nil)
	if code := a.run(testContext(t), []string{"status", "--config", filepath.Join(dir, "none")}); code != 2 {
		t.Errorf("missing --config: exit %d, stderr %q; want 2", code, stderr)
	}
}

func TestDefaultsWhenNoConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	a, stdout, stderr := testApp(t, nil)
	a.exe = "/nonexistent/bin/zkserver"
	if code := a.run(testContext(t), []string{"print-cmd"}); code != 0 {
		t.Fatalf("print-cmd: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stderr.String(), "Using config: (built-in defaults)") {
		t.Errorf("stderr = %q, want it to name the built-in defaults", stderr)
	}
	if !strings.HasPrefix(stdout.String(), "/nonexistent/bin/zkserver start-foreground > data/zookeeper-") {
		t.Errorf("print-cmd = %q", stdout)
	}
	if config.Default().DataDir != "data" {
		t.Errorf("the default dataDir changed; update the doc of cmd/zkserver")
	}
}
