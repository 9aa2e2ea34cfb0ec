package interop

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// curatorClasspath lists the Debian jars the Curator program needs; their
// manifests pull in guava, slf4j-api and the rest.
func curatorClasspath(t *testing.T) string {
	t.Helper()
	var jars []string
	for _, j := range []struct{ jar, pkg string }{
		{"curator-client.jar", "libcurator-client-java"},
		{"curator-framework.jar", "libcurator-framework-java"},
		{"curator-recipes.jar", "libcurator-recipes-java"},
		{"zookeeper.jar", "zookeeper"},
		{"zookeeper-jute.jar", "zookeeper"},
		{"slf4j-simple.jar", "libslf4j-java"},
	} {
		jars = append(jars, requireFile(t, filepath.Join(javaDir, j.jar), j.pkg))
	}
	return strings.Join(jars, ":")
}

// compileJava compiles the Java source testdata/dir/file against the
// classpath cp into a temporary directory and returns the classpath to run
// it with.
func compileJava(t *testing.T, cp, dir, file string) string {
	t.Helper()
	javac := requireCmd(t, "javac", "openjdk-17-jdk-headless")
	classes := t.TempDir()
	runTool(t, 3*time.Minute, "", javac, "-nowarn", "-d", classes, "-cp", cp,
		filepath.Join("testdata", dir, file))
	return classes + ":" + cp
}

// TestCurator compiles testdata/curator/CuratorInterop.java against the Debian
// Curator jars and runs it against each target.
func TestCurator(t *testing.T) {
	t.Parallel()
	java := requireJava(t)
	cp := compileJava(t, curatorClasspath(t), "curator", "CuratorInterop.java")

	forEachTarget(t, serverOpts{}, func(t *testing.T, tg *target) {
		out := runTool(t, 3*time.Minute, "", java,
			"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
			"-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
			"-cp", cp, "CuratorInterop", tg.addr)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if lines[len(lines)-1] != "OK" {
			t.Fatalf("CuratorInterop did not print OK:\n%s", out)
		}
		t.Logf("%s", out)
	})
}
