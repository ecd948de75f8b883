package file

import "testing"

func TestDir(t *testing.T) {
	for _, tt := range []struct {
		uri, want string
		bad       bool
	}{
		{uri: "file:///tmp/mlruns/1", want: "/tmp/mlruns/1"},
		{uri: "file:/tmp/mlruns", want: "/tmp/mlruns"},
		{uri: "file://localhost/tmp/x/", want: "/tmp/x"},
		{uri: "file:relative/dir", want: "relative/dir"},
		{uri: "/abs/dir/", want: "/abs/dir"},
		{uri: "mlruns", want: "mlruns"},
		{uri: "file://server/share", bad: true},
		{uri: "file:", bad: true},
		{uri: "", bad: true},
	} {
		got, err := Dir(tt.uri)
		if tt.bad {
			if err == nil {
				t.Errorf("Dir(%q) = %q, want an error", tt.uri, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Dir(%q) = %q, %v; want %q", tt.uri, got, err, tt.want)
		}
	}
}
