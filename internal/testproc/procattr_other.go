//go:build !linux

package testproc

import "os/exec"

// killWithParent has no portable equivalent outside Linux.
func killWithParent(cmd *exec.Cmd) {}
