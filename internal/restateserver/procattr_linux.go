package restateserver

import "syscall"

// sysProcAttr puts the server in its own process group and asks the kernel to
// SIGKILL it when the parent dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
