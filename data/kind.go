package data

import (
	"fmt"
	"strings"
)

// Kind is the type of a column: [Numeric] or [Categorical] for features,
// [Ignore] to drop a column when loading. The zero Kind means "infer".
type Kind uint8

// Column kinds. Their text forms ("numeric", "categorical", "ignore") are
// used in schema JSON and on the command line.
const (
	Numeric Kind = iota + 1
	Categorical
	Ignore
)

func (k Kind) String() string {
	switch k {
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	case Ignore:
		return "ignore"
	case 0:
		return "auto"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind parses "numeric", "categorical" or "ignore" (case-insensitive).
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "numeric":
		return Numeric, nil
	case "categorical":
		return Categorical, nil
	case "ignore":
		return Ignore, nil
	}
	return 0, fmt.Errorf("unknown column type %q (want numeric, categorical or ignore)", s)
}

// MarshalText writes the kind's name; only the three named kinds can be
// written.
func (k Kind) MarshalText() ([]byte, error) {
	if k < Numeric || k > Ignore {
		return nil, fmt.Errorf("cannot write column type %v", k)
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ParseTypes parses column type overrides written as "name=type", for
// example "ID=ignore" (the last '=' separates the name, so names may contain
// '='). It rejects a column given twice.
func ParseTypes(specs []string) (map[string]Kind, error) {
	out := make(map[string]Kind, len(specs))
	for _, s := range specs {
		i := strings.LastIndexByte(s, '=')
		if i <= 0 {
			return nil, fmt.Errorf("column type %q: want name=numeric|categorical|ignore", s)
		}
		name := strings.TrimSpace(s[:i])
		k, err := ParseKind(s[i+1:])
		if err != nil {
			return nil, fmt.Errorf("column type for %q: %w", name, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("column type for %q given twice", name)
		}
		out[name] = k
	}
	return out, nil
}
