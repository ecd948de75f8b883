package tree

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: ""},
		{in: "/", want: ""},
		{in: ".", want: ""},
		{in: "./", want: ""},
		{in: "model", want: "model"},
		{in: "/model/MLmodel/", want: "model/MLmodel"},
		{in: "a b/ü.txt", want: "a b/ü.txt"},
		{in: "..", bad: true},
		{in: "../x", bad: true},
		{in: "a/../../x", bad: true},
		{in: "a/../b", bad: true},
		{in: "a//b", bad: true},
		{in: "./a", bad: true},
		{in: "a/.", bad: true},
		{in: "a\x00b", bad: true},
	} {
		got, err := Clean(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("Clean(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Clean(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestJoinRel(t *testing.T) {
	if got := Join("", "/a/", "", "b/c"); got != "a/b/c" {
		t.Errorf("Join = %q", got)
	}
	for _, tt := range []struct {
		dir, p, want string
		ok           bool
	}{
		{"", "a/b", "a/b", true},
		{"a", "a", "", true},
		{"a", "a/b/c", "b/c", true},
		{"a", "ab/c", "", false},
		{"a/b", "a", "", false},
	} {
		got, ok := Rel(tt.dir, tt.p)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Rel(%q, %q) = %q, %v; want %q, %v", tt.dir, tt.p, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTarget(t *testing.T) {
	root := t.TempDir()
	got, err := Target(root, "a/b.txt")
	if err != nil || got != filepath.Join(root, "a", "b.txt") {
		t.Errorf("Target = %q, %v", got, err)
	}
	for _, rel := range []string{"../x", "a/../../x", "/etc/passwd", ""} {
		if got, err := Target(root, rel); err == nil {
			t.Errorf("Target(%q) = %q, want an error", rel, got)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b.txt"), "b")
	write(t, filepath.Join(dir, "sub", "deep", "a.json"), "{}")
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "b.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Rel)
	}
	if strings.Join(got, ",") != "b.txt,link.txt,sub/deep/a.json" {
		t.Errorf("Files = %v", got)
	}
	if _, err := Files(filepath.Join(dir, "b.txt")); err == nil {
		t.Error("Files of a regular file: no error")
	}
	if _, err := Files(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Files of a missing dir: %v, want fs.ErrNotExist", err)
	}

	// A socket is neither uploaded nor skipped silently.
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	defer l.Close()
	if _, err := Files(dir); err == nil || !strings.Contains(err.Error(), "sock") {
		t.Errorf("Files with a socket: %v, want an error naming it", err)
	}
}

func TestWriteFile(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "x", "y.bin")
	if err := WriteFile(dst, bytes.NewReader([]byte("hello")), 0o666); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "hello" {
		t.Fatalf("read back %q, %v", b, err)
	}
	// A failing reader leaves neither the target nor a temporary file.
	dst2 := filepath.Join(filepath.Dir(dst), "z.bin")
	if err := WriteFile(dst2, errReader{}, 0o666); err == nil {
		t.Fatal("no error from a failing reader")
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"model/MLmodel":   "application/yaml",
		"conda.yaml":      "application/yaml",
		"x/metrics.JSON":  "application/json",
		"model.lgb":       "text/plain; charset=utf-8",
		"roc.png":         "image/png",
		"weights.unknown": "application/octet-stream",
		"noext":           "application/octet-stream",
	} {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "a/b", "../a", "a//b", "/x/", "a/./b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := Clean(p)
		if err != nil {
			return
		}
		// Whatever passes stays inside the root once joined to a local
		// directory, and is stable.
		if again, err := Clean(got); err != nil || again != got {
			t.Fatalf("Clean(%q) = %q, but Clean of that = %q, %v", p, got, again, err)
		}
		if got == "." || got != "" && !filepath.IsLocal(filepath.FromSlash(got)) {
			t.Fatalf("Clean(%q) = %q, which is not local", p, got)
		}
	})
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLimit(t *testing.T) {
	ctx := WithLimit(context.Background(), 10, 2)
	dir := t.TempDir()
	write := func(name, body string) error {
		r, err := Limit(ctx, strings.NewReader(body))
		if err != nil {
			return err
		}
		return WriteFile(filepath.Join(dir, name), r, 0o666)
	}
	if err := write("a", "123456"); err != nil {
		t.Fatalf("6 of 10 bytes: %v", err)
	}
	if err := write("b", "12345"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("11 of 10 bytes: %v, want ErrTooLarge", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the file past the limit was kept: %v", err)
	}
	if err := write("c", ""); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 2 files") {
		t.Errorf("a third file: %v, want ErrTooLarge", err)
	}
	exact := WithLimit(context.Background(), 4, 0)
	r, _ := Limit(exact, strings.NewReader("1234"))
	if err := WriteFile(filepath.Join(dir, "d"), r, 0o666); err != nil {
		t.Errorf("exactly the limit: %v", err)
	}
	if r, err := Limit(context.Background(), strings.NewReader("x")); err != nil || r == nil {
		t.Errorf("without a limit: %v", err)
	}
}
