package server

import (
	"bufio"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf16"
)

// buildDate is shown where Apache ZooKeeper shows its build date.
const buildDate = "2026-11-21 00:00 UTC"

// fullVersion is Apache's Version.getFullVersion(): "<version>, built on <date>".
func fullVersion() string { return Version + ", built on " + buildDate }

// dirSize sums the sizes of the files under dir, recursively, as Apache's
// ZooKeeperServer.getDirSize does; unreadable entries count as 0.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

func maxFDs() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return r.Cur
}

// envEntry is one line of the envi answer.
type envEntry struct{ key, value string }

// notAvailable is what Apache's Environment prints for a missing property.
const notAvailable = "<NA>"

// environment lists what envi shows, under Apache's keys (Environment.list):
// the java.* keys carry the Go equivalent where one exists.
func environment() []envEntry {
	host, err := os.Hostname()
	if err != nil {
		host = notAvailable
	}
	exe, err := os.Executable()
	if err != nil {
		exe = notAvailable
	}
	userName, home := notAvailable, notAvailable
	if u, err := user.Current(); err == nil {
		userName = u.Username
	}
	if h, err := os.UserHomeDir(); err == nil {
		home = h
	}
	wd, err := os.Getwd()
	if err != nil {
		wd = notAvailable
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	const mb = 1 << 20
	total := ms.Sys
	maxMem := uint64(0)
	if limit := debug.SetMemoryLimit(-1); limit > 0 && limit < math.MaxInt64 {
		maxMem = uint64(limit)
	} else if phys := physicalMemory(); phys > 0 {
		maxMem = phys
	} else {
		maxMem = total
	}
	return []envEntry{
		{"zookeeper.version", fullVersion()},
		{"host.name", host},
		{"java.version", runtime.Version()},
		{"java.vendor", notAvailable},
		{"java.home", notAvailable},
		{"java.class.path", exe},
		{"java.library.path", notAvailable},
		{"java.io.tmpdir", os.TempDir()},
		{"java.compiler", notAvailable},
		{"os.name", javaOSName()},
		{"os.arch", javaOSArch()},
		{"os.version", osVersion()},
		{"user.name", userName},
		{"user.home", home},
		{"user.dir", wd},
		{"os.memory.free", fmt.Sprintf("%dMB", (ms.HeapIdle-ms.HeapReleased)/mb)},
		{"os.memory.max", fmt.Sprintf("%dMB", maxMem/mb)},
		{"os.memory.total", fmt.Sprintf("%dMB", total/mb)},
	}
}

// javaOSName is the os.name a JVM reports on this OS.
func javaOSName() string {
	switch runtime.GOOS {
	case "linux":
		return "Linux"
	case "darwin":
		return "Mac OS X"
	case "windows":
		return "Windows"
	case "freebsd":
		return "FreeBSD"
	}
	return runtime.GOOS
}

// javaOSArch is the os.arch a JVM reports on this architecture.
func javaOSArch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64"
	case "386":
		return "x86"
	}
	return runtime.GOARCH
}

// osVersion is the kernel release, as the JVM's os.version on Linux.
func osVersion() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return notAvailable
	}
	return strings.TrimSpace(string(b))
}

// physicalMemory returns the machine's memory in bytes (0 if unknown): the
// JVM's default heap limit derives from it, so it stands in for os.memory.max
// when no GOMEMLIMIT is set.
func physicalMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// javaDouble formats v as Java's Double.toString does: at least one digit
// after the point, and computerized scientific notation outside [1e-3, 1e7).
func javaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// javaStringHash is Java's String.hashCode over the UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// javaHashOrder returns keys in the order a java.util.concurrent.
// ConcurrentHashMap created empty and filled with keys in the given order
// iterates them. Apache ZooKeeper's mntr lists its metrics in that order, so
// reproducing it keeps the output line-for-line comparable.
func javaHashOrder(keys []string) []string {
	type node struct {
		key  string
		hash uint32
	}
	spread := func(s string) uint32 {
		h := uint32(javaStringHash(s))
		return (h ^ h>>16) & 0x7fffffff
	}
	n := 16
	table := make([][]node, n)
	threshold := n - n>>2
	count := 0
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		nd := node{k, spread(k)}
		i := int(nd.hash) & (n - 1)
		table[i] = append(table[i], nd)
		count++
		if count < threshold {
			continue
		}
		// Resize as ConcurrentHashMap.transfer does: each bin splits into a
		// low and a high bin; the trailing run of nodes that go to the same
		// side keeps its order and the nodes before it are prepended.
		next := make([][]node, 2*n)
		for i, bin := range table {
			if len(bin) == 0 {
				continue
			}
			runBit, last := bin[0].hash&uint32(n), 0
			for j := 1; j < len(bin); j++ {
				if b := bin[j].hash & uint32(n); b != runBit {
					runBit, last = b, j
				}
			}
			var lo, hi []node
			if runBit == 0 {
				lo = append(lo, bin[last:]...)
			} else {
				hi = append(hi, bin[last:]...)
			}
			for j := 0; j < last; j++ {
				if bin[j].hash&uint32(n) == 0 {
					lo = append([]node{bin[j]}, lo...)
				} else {
					hi = append([]node{bin[j]}, hi...)
				}
			}
			next[i], next[i+n] = lo, hi
		}
		table, n = next, 2*n
		threshold = n - n>>2
	}
	out := make([]string, 0, count)
	for _, bin := range table {
		for _, nd := range bin {
			out = append(out, nd.key)
		}
	}
	return out
}

// javaDate formats t as java.util.Date.toString does.
func javaDate(t time.Time) string { return t.Format("Mon Jan 02 15:04:05 MST 2006") }

// javaSocketAddr formats a "host:port" remote address as Java's
// InetSocketAddress.toString for an unresolved peer: "/1.2.3.4:5" or
// "/[0:0:0:0:0:0:0:1]:5" (IPv6 groups unabbreviated, as Java writes them).
func javaSocketAddr(hostPort string) string {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return "/" + hostPort
	}
	zone := ""
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host, zone = host[:i], host[i:]
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "/" + hostPort
	}
	if ip4 := ip.To4(); ip4 != nil {
		return "/" + ip4.String() + ":" + port
	}
	groups := make([]string, 8)
	for i := range groups {
		groups[i] = strconv.FormatUint(uint64(ip[2*i])<<8|uint64(ip[2*i+1]), 16)
	}
	return "/[" + strings.Join(groups, ":") + zone + "]:" + port
}
