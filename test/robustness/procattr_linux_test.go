package robustness

import (
	"os/exec"
	"syscall"
)

// killWithTest makes the kernel kill the server if the test binary dies
// (e.g. go test's -timeout), so that no server outlives its test.
func killWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
