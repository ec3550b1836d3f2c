// Command pause is the process of a pod's sandbox container: it holds the
// pod's namespaces open and does nothing else. Built here because the
// upstream pause image cannot be pulled on a machine without registry access.
//
// It waits for SIGINT or SIGTERM and exits 0, and reaps orphaned children,
// since it is PID 1 when a pod shares its process namespace.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
