package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

func predictCommand() *cli.Command {
	return &cli.Command{
		Name:  "predict",
		Usage: "score a CSV of applicants with a model",
		Description: `Writes the input rows with a probability_of_default column, the same
probabilities pipeline serve answers for the same rows: values mean the same
on every path (a level, or a category code; empty, NA, NaN or null for a
missing value). Columns that are not features (an ID, the label) are copied
through; a scorecard adds its score in points. A file of any size is read,
scored and written in blocks on every core, in constant memory; a name ending
in .gz is read or written gzipped.

--explain adds, per row, the decision at --threshold, the --reason-codes
reasons that raised the risk most (feature, value, amount: log-odds
contribution, or points lost for a scorecard; and the adverse-action
statement from --reasons, as /explain gives them) and the row's warnings
(feature:reason; …): an unseen category or a missing required value (scored
as missing), a value outside the training range (scored as given). Without
--explain the warnings are counted on standard error; --strict refuses the
file at the first one instead.

--model takes MLflow's model URIs (models:/NAME/VERSION, models:/NAME@ALIAS,
models:/NAME/STAGE, models:/MODEL_ID, runs:/RUN_ID/model), resolved through the
tracking server at MLFLOW_TRACKING_URI or, without it, the local store ./mlruns;
or a local model directory.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "model URI or directory", EnvVars: []string{"PIPELINE_MODEL_URI"}},
			&cli.StringFlag{Name: "data", Usage: "CSV file with a header row (.gz: gzipped)"},
			&cli.StringFlag{Name: "out", Usage: "output CSV (.gz: gzipped; default: standard output)"},
			&cli.BoolFlag{Name: "explain", Usage: "add the decision, reasons and warnings of each row"},
			&cli.Float64Flag{Name: "threshold", Value: 0.5, Usage: "with --explain: decline at or above this probability of default"},
			&cli.IntFlag{Name: "reason-codes", Value: 4, Usage: "with --explain: reasons per row"},
			reasonsFlag("PIPELINE_REASONS"),
			&cli.BoolFlag{Name: "strict", Usage: "refuse the file at the first warning (unseen category, value outside the training range, missing value)"},
		},
		Action: runPredict,
	}
}

func runPredict(c *cli.Context) error {
	if err := requireFlags(c, "model", "data"); err != nil {
		return err
	}
	opts := scoring{explain: c.Bool("explain"), threshold: c.Float64("threshold"), reasons: c.Int("reason-codes"), strict: c.Bool("strict")}
	if !(opts.threshold > 0 && opts.threshold < 1) {
		return usageError("--threshold %v: want a probability strictly between 0 and 1", opts.threshold)
	}
	if opts.reasons < 0 {
		return usageError("--reason-codes %d: want 0 or more", opts.reasons)
	}
	set, err := loadReasons(c)
	if err != nil {
		return err
	}
	dir, cleanup, err := localModel(c, c.String("model"))
	if err != nil {
		return err
	}
	defer cleanup()
	d, err := model.Open(dir)
	if err != nil {
		return err
	}
	prof, err := model.ReadProfile(dir)
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	enc, err := data.NewEncoder(d.Model.Schema(), prof)
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	if opts.explain {
		row := make([]float64, len(d.Model.Schema().Features))
		if _, _, err := d.Model.Explain(row); errors.Is(err, model.ErrNoExplain) {
			return usageError("--explain: the %s model cannot explain its predictions", d.Flavor)
		}
		opts.explainer = model.NewExplainer(d.Model, set, prof)
	}
	path := c.String("data")
	in, err := data.Open(path)
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	defer in.Close()
	br, err := enc.NewBatchReader(in, path)
	if err != nil {
		return err
	}
	out, err := createOutput(c.String("out"), c.App.Writer)
	if err != nil {
		return err
	}
	defer out.abort()
	counts, err := score(c.Context, br, d.Model, out, opts)
	if err != nil {
		return err
	}
	if err := out.commit(); err != nil {
		return err
	}
	keys := make([]noteKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b noteKey) int { return cmp.Or(cmp.Compare(a.feature, b.feature), cmp.Compare(a.note, b.note)) })
	for _, k := range keys {
		f := enc.Schema().Features[k.feature].Name
		fmt.Fprintf(c.App.ErrWriter, "predict: %s: %s: %s in %s (%s)\n", path, f, k.note.Reason(), rowsWord(counts[k]), scoredAs(k.note))
	}
	return nil
}

func rowsWord(n int) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.Itoa(n) + " rows"
}

func scoredAs(n data.Note) string {
	if n == data.NoteOutOfRange {
		return "scored as given"
	}
	return "scored as missing"
}

// localModel returns a directory holding the model ref names: ref itself
// when it is a local directory, else a temporary copy fetched through the
// tracking backend (removed by cleanup): the server at MLFLOW_TRACKING_URI,
// or without one the local store ./mlruns, as train records into.
func localModel(c *cli.Context, ref string) (dir string, cleanup func(), err error) {
	noop := func() {}
	r, err := tracking.ParseRef(ref)
	if err != nil {
		return "", noop, usageError("--model: %v", err)
	}
	if r.Dir != "" {
		return r.Dir, noop, nil
	}
	b, err := openTracking(tellRetries(c.App.ErrWriter))
	if err != nil {
		return "", noop, err
	}
	tmp, err := os.MkdirTemp("", "pipeline-model-")
	if err != nil {
		return "", noop, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	dir = filepath.Join(tmp, tracking.ModelPath)
	if err := tracking.Fetch(c.Context, b, r, dir); err != nil {
		cleanup()
		return "", noop, fmt.Errorf("--model: %w", err)
	}
	return dir, cleanup, nil
}

// output is where the scored rows go: standard output, or a file written
// under a temporary name and renamed when complete, so that a failed run
// leaves no half-written file.
type output struct {
	w    io.Writer
	f    *os.File
	path string
	gz   bool // blocks are written as gzip members
}

func createOutput(path string, stdout io.Writer) (*output, error) {
	if path == "" {
		return &output{w: stdout}, nil
	}
	// Scored applicants are never world-readable (0660 less the umask).
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o660)
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	return &output{w: f, f: f, path: path, gz: strings.HasSuffix(path, ".gz")}, nil
}

func (o *output) commit() error {
	if o.f == nil {
		return nil
	}
	if err := o.f.Close(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.Rename(o.f.Name(), o.path); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	o.f = nil
	return nil
}

// abort removes the temporary file of an output not committed.
func (o *output) abort() {
	if o.f != nil {
		o.f.Close()
		os.Remove(o.f.Name())
	}
}

// scoring are the options of a scoring run.
type scoring struct {
	explain   bool
	threshold float64
	reasons   int
	strict    bool
	explainer *model.Explainer // with explain
}

type noteKey struct {
	feature int
	note    data.Note
}

// job is one block on its way through the workers.
type job struct {
	seq  int
	blk  data.Block
	rows data.Rows
	out  bytes.Buffer
	err  error
	// notes counts the block's warnings
	notes map[noteKey]int
}

// score reads blocks of br, decodes, scores and formats them on every core,
// and writes them to out in file order. Memory is bounded by the blocks in
// flight (two per worker), whatever the size of the input. The first
// error in file order is returned.
func score(ctx context.Context, br *data.BatchReader, m model.Model, out *output, o scoring) (map[noteKey]int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	header := append(slices.Clone(br.Header()), "probability_of_default")
	if _, ok := m.(model.Scorer); ok {
		header = append(header, "score")
	}
	if o.explain {
		header = append(header, "decision")
		for k := 1; k <= o.reasons; k++ {
			header = append(header, fmt.Sprintf("reason_%d_feature", k), fmt.Sprintf("reason_%d_value", k),
				fmt.Sprintf("reason_%d_amount", k), fmt.Sprintf("reason_%d_statement", k))
		}
		header = append(header, "warnings")
	}
	var hb bytes.Buffer
	cw := csv.NewWriter(&hb)
	cw.Write(header)
	cw.Flush()
	if err := out.write(hb.Bytes()); err != nil {
		return nil, err
	}

	workers := runtime.GOMAXPROCS(0)
	free := make(chan *job, 2*workers)
	for range 2 * workers {
		free <- &job{}
	}
	jobs := make(chan *job)
	done := make(chan *job, 2*workers)
	var readErr error
	go func() { // reader: cuts the input into blocks, in order
		defer close(jobs)
		for seq := 0; ; seq++ {
			var j *job
			select {
			case j = <-free:
			case <-ctx.Done():
				return
			}
			j.seq, j.err = seq, nil
			if err := br.Next(&j.blk); err != nil {
				if err != io.EOF {
					readErr = err
				}
				free <- j
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.err = scoreBlock(br, m, j, o)
				done <- j
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	counts := map[noteKey]int{}
	pending := map[int]*job{}
	next := 0
	var err error
	for j := range done {
		pending[j.seq] = j
		for p, ok := pending[next]; ok && err == nil; p, ok = pending[next] {
			delete(pending, next)
			next++
			if err = p.err; err == nil {
				err = out.write(p.out.Bytes())
			}
			for k, n := range p.notes {
				counts[k] += n
			}
			free <- p
		}
		if err != nil {
			cancel()
		}
	}
	if err == nil {
		err = readErr
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	return counts, nil
}

// write writes a block's formatted rows: as they are, or as one gzip
// member when out is gzipped (a gzip file may hold several, and gunzip,
// Go and Python read them as one stream).
func (o *output) write(b []byte) error {
	if o.gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		b = z.Bytes()
	}
	if _, err := o.w.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// scoreBlock decodes, scores and formats one block.
func scoreBlock(br *data.BatchReader, m model.Model, j *job, o scoring) error {
	if err := br.Decode(&j.blk, &j.rows); err != nil {
		return err
	}
	enc := br.Encoder()
	rows := &j.rows
	clear(j.notes)
	if j.notes == nil {
		j.notes = map[noteKey]int{}
	}
	for _, n := range rows.Notes {
		if o.strict {
			i := n.Feature
			v, col := br.Cell(rows.Records[n.Row], i)
			return &data.Error{File: br.Name(), Line: rows.Lines[n.Row], Column: col,
				Msg: "--strict: " + enc.Message(i, n.Note, data.Quote(strings.TrimSpace(v))), Kind: errWarning}
		}
		j.notes[noteKey{n.Feature, n.Note}]++
	}
	j.out.Reset()
	if len(rows.X) == 0 {
		return nil
	}
	p, err := m.Predict(rows.X)
	if err != nil {
		return fmt.Errorf("score lines %d–%d: %w", rows.Lines[0], rows.Lines[len(rows.Lines)-1], err)
	}
	sc, _ := m.(model.Scorer)
	cw := csv.NewWriter(&j.out)
	var rec []string
	note := 0
	for i, r := range rows.Records {
		rec = append(append(rec[:0], r...), strconv.FormatFloat(p[i], 'g', -1, 64))
		if sc != nil {
			_, points, err := sc.Points(rows.X[i])
			if err != nil {
				return fmt.Errorf("line %d: %w", rows.Lines[i], err)
			}
			rec = append(rec, strconv.Itoa(points))
		}
		if o.explain {
			k := note
			for note < len(rows.Notes) && rows.Notes[note].Row == i {
				note++
			}
			var err error
			if rec, err = explainRow(rec, br, rows.X[i], p[i], rows.Notes[k:note], o); err != nil {
				return fmt.Errorf("line %d: %w", rows.Lines[i], err)
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// errWarning is the kind of a --strict refusal.
var errWarning = errors.New("warning refused")

// explainRow appends the decision, reasons and warnings of one row.
func explainRow(rec []string, br *data.BatchReader, x []float64, p float64, notes []data.CellNote, o scoring) ([]string, error) {
	decision := "approve"
	if p >= o.threshold {
		decision = "decline"
	}
	rec = append(rec, decision)
	s := br.Encoder().Schema()
	var rs []model.Reason
	if o.reasons > 0 {
		var err error
		if rs, err = o.explainer.Reasons(x, o.reasons); err != nil {
			return nil, err
		}
	}
	for k := range o.reasons {
		if k >= len(rs) {
			rec = append(rec, "", "", "", "")
			continue
		}
		r := rs[k]
		f := slices.IndexFunc(s.Features, func(f data.Feature) bool { return f.Name == r.Feature })
		rec = append(rec, r.Feature, scoredValue(s, f, x[f]), strconv.FormatFloat(r.Amount, 'g', -1, 64), r.Statement)
	}
	var w strings.Builder
	for i, n := range notes {
		if i > 0 {
			w.WriteByte(';')
		}
		w.WriteString(s.Features[n.Feature].Name)
		w.WriteByte(':')
		w.WriteString(n.Note.Reason())
	}
	return append(rec, w.String()), nil
}

// scoredValue is feature f's value as scored: a category's level, a
// number, or empty for a missing value.
func scoredValue(s *data.Schema, f int, v float64) string {
	switch {
	case math.IsNaN(v):
		return ""
	case s.Features[f].Type == data.Categorical:
		return s.Features[f].Levels[int(v)]
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
