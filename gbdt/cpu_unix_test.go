//go:build unix

package gbdt

import (
	"syscall"
	"time"
)

// cpuNow is the CPU time the process has used (user and system, all
// threads), for reportCPU.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
