// Command mkmodel writes the benchmark's model directory (gbdt, 100
// iterations, on the embedded German credit data) and a single-row MLflow
// scoring request for it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mkmodel MODEL_DIR REQUEST_JSON")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "mkmodel:", err)
		os.Exit(1)
	}
}

func run(dir, reqPath string) error {
	tb, err := data.Default()
	if err != nil {
		return err
	}
	m, err := model.Train(context.Background(), model.FamilyGBDT, tb, nil, model.TrainOptions{Params: map[string]string{"num_iterations": "100"}})
	if err != nil {
		return err
	}
	if err := model.Save(dir, m, model.SaveOptions{Example: tb.Matrix([]int{0, 1, 2})}); err != nil {
		return err
	}
	row := make([]any, 0, len(tb.Columns))
	for _, v := range tb.Matrix([]int{0})[0] {
		if math.IsNaN(v) {
			row = append(row, nil)
		} else {
			row = append(row, v)
		}
	}
	b, err := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": tb.FeatureNames(), "data": [][]any{row}}})
	if err != nil {
		return err
	}
	return os.WriteFile(reqPath, b, 0o644)
}
