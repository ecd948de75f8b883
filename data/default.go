package data

import (
	"bytes"
	_ "embed"
)

// The Statlog German credit data (CC BY 4.0, see README.md), the default
// training source so that `pipeline train` works with no data flag.
//
//go:embed german_credit.csv
var germanCSV []byte

// DefaultOptions are the options for the embedded German credit data:
// label column "creditability", positive class "bad".
func DefaultOptions() Options {
	return Options{Name: "embedded:german_credit.csv", Label: "creditability", Positive: "bad"}
}

// DefaultCSV returns a copy of the embedded German credit CSV file.
func DefaultCSV() []byte { return bytes.Clone(germanCSV) }

// Default loads the embedded German credit data (1,000 rows, 7 numeric
// and 13 categorical features, 30% positive).
func Default() (*Table, error) {
	return Load(bytes.NewReader(germanCSV), DefaultOptions())
}
