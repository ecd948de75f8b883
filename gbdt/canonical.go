package gbdt

import "strings"

// CanonicalParam returns LightGBM's canonical name of a parameter key, e.g.
// num_iterations for n_estimators or num_boost_round, so callers can tell
// whether two keys set the same parameter.
func CanonicalParam(key string) string {
	key = strings.TrimSpace(key)
	if c, ok := aliases[key]; ok {
		return c
	}
	return key
}
