//go:build !unix

package filestore

// lockPath has no cross-process lock where flock is missing: only the
// Store's mutex serializes writers, so one process at a time should write.
func lockPath(string) (func(), error) { return func() {}, nil }
