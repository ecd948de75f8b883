//go:build !unix

package main

// cpuSeconds is 0 where getrusage is missing: the CPU time is not reported.
func cpuSeconds() float64 { return 0 }
