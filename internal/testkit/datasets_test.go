package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.csv"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PIPELINE_DATASETS", dir)
	if got := Path(t, "x.csv"); got != filepath.Join(dir, "x.csv") {
		t.Errorf("Path = %q", got)
	}
}

func TestFindMissing(t *testing.T) {
	t.Setenv("PIPELINE_DATASETS", t.TempDir())
	p, tried := find("no-such-file.csv")
	if p != "" || len(tried) < 2 {
		t.Errorf("find = %q, tried %q", p, tried)
	}
}
