//go:build !unix

package gbdt

import "time"

// cpuNow is 0 where getrusage is missing: reportCPU then reports 0.
func cpuNow() time.Duration { return 0 }
