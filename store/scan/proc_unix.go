//go:build unix

package scan

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the command in a process group of its own and has a
// timeout kill the whole group, so nothing it started outlives it holding
// its output open.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
