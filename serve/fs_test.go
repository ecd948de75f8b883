package serve

import (
	"net"
	"os"
	"path/filepath"
)

func removeFile(dir, name string) error { return os.Remove(filepath.Join(dir, name)) }

// removeAll empties dir, keeping it.
func removeAll(dir string) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range es {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
