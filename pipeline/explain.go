package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/reasons"
)

// The adverse-action side of predict and serve: the reasons file, and the
// columns predict adds for scorecards (score) and with --explain (the
// statements of the top reasons).

// reasonsFlag is --reasons with the command's environment variable.
func reasonsFlag(envVar string) cli.Flag {
	return &cli.StringFlag{Name: "reasons", Usage: "adverse-action statements YAML (see configs/reasons.yaml; default: the embedded copy)", EnvVars: []string{envVar}}
}

// loadReasons reads --reasons, or returns the embedded default set.
func loadReasons(c *cli.Context) (*reasons.Set, error) {
	path := c.String("reasons")
	if path == "" {
		return reasons.Default(), nil
	}
	set, err := reasons.Load(path)
	if err != nil {
		return nil, usageError("--reasons: %v", err)
	}
	return set, nil
}

// extraColumns are the columns predict writes after probability_of_default:
// score for a scorecard; with explain > 0, reason_1 … reason_N, the
// statements of each row's top N reasons (empty where a row has fewer), as
// /explain gives them.
func extraColumns(d *model.Dir, x [][]float64, explain int, set *reasons.Set) (header []string, cols [][]string, err error) {
	if sc, ok := d.Model.(model.Scorer); ok {
		col := make([]string, len(x))
		for i, row := range x {
			_, s, err := sc.Points(row)
			if err != nil {
				return nil, nil, fmt.Errorf("score row %d: %w", i+1, err)
			}
			col[i] = strconv.Itoa(s)
		}
		header, cols = append(header, "score"), append(cols, col)
	}
	if explain <= 0 {
		return header, cols, nil
	}
	e, err := model.DirExplainer(d, set)
	if err != nil {
		return nil, nil, err
	}
	first := len(cols)
	for k := range explain {
		header = append(header, "reason_"+strconv.Itoa(k+1))
		cols = append(cols, make([]string, len(x)))
	}
	for i, row := range x {
		rs, err := e.Reasons(row, explain)
		if errors.Is(err, model.ErrNoExplain) {
			return nil, nil, usageError("--explain: the %s model cannot explain its predictions", d.Flavor)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("explain row %d: %w", i+1, err)
		}
		for k, r := range rs {
			cols[first+k][i] = r.Statement
		}
	}
	return header, cols, nil
}
