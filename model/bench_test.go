package model

import (
	"context"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// BenchmarkPredictRow measures one-row Predict, serve's hot path, for
// each family trained on German credit with default parameters.
func BenchmarkPredictRow(b *testing.B) {
	tab := testkit.German(b)
	row := testkit.AllRows(tab)[:1]
	for _, f := range FamilyNames() {
		m, err := Train(context.Background(), f, tab, nil, TrainOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Predict(row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
