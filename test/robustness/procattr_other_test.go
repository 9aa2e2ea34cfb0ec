//go:build !linux

package robustness

import "os/exec"

// killWithTest does nothing where the kernel offers no parent-death signal;
// the test's cleanup still stops the server.
func killWithTest(cmd *exec.Cmd) {}
