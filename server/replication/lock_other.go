//go:build !unix

package replication

// lockDir is a no-op where flock is unavailable: two servers sharing a
// directory are then not detected.
func lockDir(string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
