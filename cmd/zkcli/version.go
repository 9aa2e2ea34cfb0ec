package main

import (
	"runtime/debug"
	"time"
)

// fullVersion is the version zkcli reports, in the shape of Apache
// ZooKeeper's Version.getFullVersion: "VERSION-REVISION, built on DATE".
// The version is the ZooKeeper release whose CLI zkcli reproduces.
func fullVersion() string {
	rev, built := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					built = t.UTC().Format("2006-01-02 15:04") + " UTC"
				}
			}
		}
	}
	return "3.8.0-zkgo-" + rev + ", built on " + built
}
