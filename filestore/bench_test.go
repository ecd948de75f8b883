package filestore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/creditrisk/engine/mlflow"
)

// BenchmarkLogBatch logs a training's learning curves: 4 metrics × 500
// iterations in one batch.
func BenchmarkLogBatch(b *testing.B) {
	ctx := context.Background()
	s, _ := open(b)
	r, err := s.CreateRun(ctx, mlflow.CreateRunRequest{})
	if err != nil {
		b.Fatal(err)
	}
	var batch mlflow.Batch
	for i := range 500 {
		for _, k := range []string{"train_log_loss", "validation_log_loss", "train_auc", "validation_auc"} {
			batch.Metrics = append(batch.Metrics, mlflow.Metric{Key: k, Value: 1 / float64(i+1), Timestamp: 1700000000000, Step: int64(i)})
		}
	}
	b.ResetTimer()
	for range b.N {
		if err := s.LogBatch(ctx, r.Info.RunID, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateModelVersion registers versions of one model.
func BenchmarkCreateModelVersion(b *testing.B) {
	ctx := context.Background()
	s, _ := open(b)
	if _, err := s.GetOrCreateRegisteredModel(ctx, "m"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		req := mlflow.CreateModelVersionRequest{Name: "m", Source: "file:///x", Tags: []mlflow.Tag{{Key: "i", Value: fmt.Sprint(i)}}}
		if _, err := s.CreateModelVersion(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
