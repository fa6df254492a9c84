package main

import "syscall"

// sysProcAttr puts restate-server in its own process group (so that Ctrl-C
// in the terminal reaches this program only, which then stops the server
// gracefully) and kills it if this program dies without cleaning up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
