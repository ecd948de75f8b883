package tempfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The umask decides: 022 leaves a file 0644 and a folder 0755; 077 leaves
// them private. (Not parallel: the umask belongs to the process.)
func TestUmask(t *testing.T) {
	for _, tc := range []struct {
		umask           int
		file, directory os.FileMode
	}{
		{0o022, 0o644, 0o755},
		{0o077, 0o600, 0o700},
		{0o027, 0o640, 0o750},
	} {
		old := syscall.Umask(tc.umask)
		dir := t.TempDir()
		f, err := Create(dir, ".tmp-", 0o666)
		if err != nil {
			syscall.Umask(old)
			t.Fatal(err)
		}
		f.Close()
		d, err := Mkdir(dir, ".tmp-")
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(f.Name()); st.Mode().Perm() != tc.file || !strings.HasPrefix(filepath.Base(f.Name()), ".tmp-") {
			t.Errorf("umask %o: file %s is %v, want %v", tc.umask, f.Name(), st.Mode().Perm(), tc.file)
		}
		if st, _ := os.Stat(d); st.Mode().Perm() != tc.directory {
			t.Errorf("umask %o: folder is %v, want %v", tc.umask, st.Mode().Perm(), tc.directory)
		}
	}
}

func TestNamesDiffer(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	for range 100 {
		f, err := Create(dir, "x", 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if seen[f.Name()] {
			t.Fatalf("%s made twice", f.Name())
		}
		seen[f.Name()] = true
	}
}
