package filestore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlMap is a meta.yaml document: one level of keys, written sorted as
// MLflow's write_yaml (sort_keys) does. Values are string, int64, int, nil
// (null), []string and map[string]string.
type yamlMap map[string]any

// plainYAML matches strings that PyYAML (YAML 1.1) and yaml.v3 both read
// back as the same string when written unquoted.
var plainYAML = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./:+\-]*$`)

// yamlKeywords are plain scalars YAML 1.1 resolves to booleans or null.
var yamlKeywords = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true, "nan": true, "inf": true,
}

func yamlString(s string) string {
	if plainYAML.MatchString(s) && !strings.HasSuffix(s, ":") && !yamlKeywords[strings.ToLower(s)] && !strings.HasPrefix(strings.ToLower(s), "0x") {
		return s
	}
	// A JSON string is a valid YAML double-quoted scalar.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func (m yamlMap) marshal() []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString(yamlString(k) + ":")
		switch v := m[k].(type) {
		case nil:
			b.WriteString(" null\n")
		case string:
			b.WriteString(" " + yamlString(v) + "\n")
		case int64:
			fmt.Fprintf(&b, " %d\n", v)
		case int:
			fmt.Fprintf(&b, " %d\n", v)
		case []string:
			if len(v) == 0 {
				b.WriteString(" []\n")
				continue
			}
			b.WriteString("\n")
			for _, s := range v {
				b.WriteString("- " + yamlString(s) + "\n")
			}
		case map[string]string:
			if len(v) == 0 {
				b.WriteString(" {}\n")
				continue
			}
			b.WriteString("\n")
			sub := make([]string, 0, len(v))
			for sk := range v {
				sub = append(sub, sk)
			}
			sort.Strings(sub)
			for _, sk := range sub {
				b.WriteString("  " + yamlString(sk) + ": " + yamlString(v[sk]) + "\n")
			}
		default:
			panic(fmt.Sprintf("filestore: yaml value of type %T", v))
		}
	}
	return b.Bytes()
}

// readYAML decodes the meta.yaml at path into v. An empty file (a writer
// that did not rename atomically, such as MLflow itself, caught mid-write)
// is an error naming the file.
func readYAML(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fmt.Errorf("%s: empty", path)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// idString is a YAML scalar read as a string: legacy stores wrote
// experiment IDs as integers.
type idString string

func (s *idString) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a scalar", n.Line)
	}
	if n.Tag == "!!null" {
		*s = ""
		return nil
	}
	*s = idString(n.Value)
	return nil
}

// optString is a YAML string that may be null.
type optString = idString

// pyFloat formats v as Python's repr(float) does, which is how MLflow
// writes metric values: nan, inf, -inf, "1.0", "0.0001", "1e-05", "1e+16".
func pyFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(v, 'e', -1, 64) // shortest round-trip digits
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= 16 {
		mant, sign, digits := e[:i], e[i+1], strings.TrimLeft(e[i+2:], "0")
		for len(digits) < 2 {
			digits = "0" + digits
		}
		return mant + "e" + string(sign) + digits
	}
	f := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsRune(f, '.') {
		f += ".0"
	}
	return f
}

// parseMetricLine reads one line of a metrics file: "<timestamp> <value>
// <step>", or the old "<timestamp> <value>" (step 0).
func parseMetricLine(line string) (ts int64, v float64, step int64, err error) {
	f := strings.Fields(line)
	if len(f) != 2 && len(f) != 3 {
		return 0, 0, 0, fmt.Errorf("%d fields, want 2 or 3", len(f))
	}
	if ts, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return 0, 0, 0, fmt.Errorf("timestamp: %w", err)
	}
	// ParseFloat takes Python's nan/inf spellings (and "Infinity").
	if v, err = strconv.ParseFloat(f[1], 64); err != nil {
		return 0, 0, 0, fmt.Errorf("value: %w", err)
	}
	if len(f) == 3 {
		if step, err = strconv.ParseInt(f[2], 10, 64); err != nil {
			return 0, 0, 0, fmt.Errorf("step: %w", err)
		}
	}
	return ts, v, step, nil
}

// join builds a path below dir from a slash-separated key.
func join(dir, key string) string { return filepath.Join(dir, filepath.FromSlash(key)) }
