package suite

import "syscall"

// sysProcAttr gives a child its own process group and has the kernel kill it
// when the harness dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
