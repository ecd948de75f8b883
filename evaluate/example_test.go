package evaluate_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/creditrisk/engine/evaluate"
)

func ExampleEvaluate() {
	labels := []float64{0, 0, 1, 1, 0, 1, 0, 0}
	scores := []float64{0.10, 0.40, 0.35, 0.80, 0.20, 0.65, 0.05, 0.55}
	r, err := evaluate.Evaluate(labels, scores, 0.5)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := r.Metrics()
	fmt.Printf("auc %.4f gini %.4f ks %.4f\n", m["auc"], m["gini"], m["ks"])
	fmt.Printf("approval rate %.3f, bad rate among approved %.3f\n", m["approval_rate"], m["bad_rate_approved"])
	fmt.Printf("%+v\n", r.AtCutoff.Confusion)
	// Output:
	// auc 0.8667 gini 0.7333 ks 0.6667
	// approval rate 0.625, bad rate among approved 0.200
	// {TruePositive:2 FalsePositive:1 TrueNegative:4 FalseNegative:1}
}

func ExampleEvaluate_error() {
	_, err := evaluate.Evaluate([]float64{0, 1}, []float64{0.2, 1.3}, 0.5)
	fmt.Println(err)
	// Output:
	// evaluate: scores[1] = 1.3: score is not a probability in [0, 1]
}

func ExampleDeLong() {
	labels := []float64{0, 0, 1, 1, 0, 1, 0, 0, 1, 0}
	champion := []float64{0.10, 0.40, 0.35, 0.80, 0.20, 0.65, 0.05, 0.55, 0.30, 0.25}
	challenger := []float64{0.15, 0.30, 0.45, 0.85, 0.10, 0.70, 0.05, 0.35, 0.50, 0.20}
	d, err := evaluate.DeLong(labels, challenger, champion)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("challenger %.3f, champion %.3f, diff %+.3f, p = %.3f\n", d.AUCA, d.AUCB, d.Diff, d.P)
	// Output:
	// challenger 1.000, champion 0.833, diff +0.167, p = 0.243
}

func ExampleROCComparison() {
	labels := []float64{0, 0, 1, 1, 0, 1, 0, 0, 1, 0}
	champion := []float64{0.10, 0.40, 0.35, 0.80, 0.20, 0.65, 0.05, 0.55, 0.30, 0.25}
	challenger := []float64{0.15, 0.30, 0.45, 0.85, 0.10, 0.70, 0.05, 0.35, 0.50, 0.20}
	dir, err := os.MkdirTemp("", "roc")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "roc_comparison.png")
	if err := evaluate.ROCComparison(path, labels, champion, challenger, "champion", "challenger"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("wrote", filepath.Base(path))
	// Output:
	// wrote roc_comparison.png
}
