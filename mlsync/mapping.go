package mlsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/creditrisk/engine/internal/tempfile"
)

// mapping records which server object each local object became, per
// server. It is a cache: the server's tags (TagSourceRun,
// TagSourceVersion) are the truth, so a lost or stale file only costs
// searches.
type mapping struct {
	TrackingURI string            `json:"tracking_uri"`
	Experiments map[string]string `json:"experiments"` // local id -> remote id
	Runs        map[string]string `json:"runs"`        // local run id -> remote run id
	// Versions maps model name -> local version -> remote version.
	Versions map[string]map[string]string `json:"versions"`
	// Models maps a local logged model id -> the server's (MLflow 3).
	Models map[string]string `json:"models,omitempty"`
}

// mappingPath is the mapping file for the server at uri: a file, not a
// folder, in the store's root, because MLflow takes every folder there for
// an experiment and warns about those without meta.yaml.
func mappingPath(root, uri string) string {
	key := uri
	if u, err := url.Parse(uri); err == nil && u.Host != "" {
		key = u.Host + u.Path
	}
	var b strings.Builder
	for _, r := range strings.TrimRight(key, "/") {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return filepath.Join(root, ".sync-"+b.String()+".json")
}

func loadMapping(path, uri string) (*mapping, error) {
	m := &mapping{TrackingURI: uri}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read mapping %s: %w", path, err)
	default:
		if err := json.Unmarshal(b, m); err != nil {
			return nil, fmt.Errorf("read mapping %s: %w (delete it to rebuild it from the server's tags)", path, err)
		}
	}
	if m.Experiments == nil {
		m.Experiments = map[string]string{}
	}
	if m.Runs == nil {
		m.Runs = map[string]string{}
	}
	if m.Versions == nil {
		m.Versions = map[string]map[string]string{}
	}
	if m.Models == nil {
		m.Models = map[string]string{}
	}
	return m, nil
}

func (m *mapping) setVersion(model, local, remote string) {
	if m.Versions[model] == nil {
		m.Versions[model] = map[string]string{}
	}
	m.Versions[model][local] = remote
}

// save writes the file atomically: a temporary file renamed into place, so
// a reader (or a crash) never sees half of it.
func (m *mapping) save(path string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	f, err := tempfile.Create(filepath.Dir(path), ".tmp-sync-", 0o666)
	if err != nil {
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write mapping %s: %w", path, err)
	}
	return nil
}
