package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns the path of the shared data set file name (for example
// "taiwan_default.csv"). It looks in $PIPELINE_DATASETS, then in
// shared/datasets in the working directory and each directory above it,
// which finds both the development layout and CI's copy of shared/ beside
// the clone. A file not found is Unavailable.
func Path(t testing.TB, name string) string {
	t.Helper()
	p, tried := find(name)
	if p != "" {
		return p
	}
	Unavailable(t, "shared data set %s not found (looked in %q); set PIPELINE_DATASETS to the folder holding it", name, tried)
	return ""
}

func find(name string) (string, []string) {
	var tried []string
	if d := os.Getenv("PIPELINE_DATASETS"); d != "" {
		p := filepath.Join(d, name)
		if isFile(p) {
			return p, nil
		}
		tried = append(tried, d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", tried
	}
	for {
		d := filepath.Join(dir, "shared", "datasets")
		tried = append(tried, d)
		if p := filepath.Join(d, name); isFile(p) {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", tried
		}
		dir = parent
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
