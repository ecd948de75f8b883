package data

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/creditrisk/engine/internal/fanout"
)

// Options say how to read a training file.
type Options struct {
	// Name is the file's name in errors and in Table.Source.
	Name string
	// Label is the label column; Positive the label value of the positive
	// class (compared with the trimmed field, e.g. "bad" or "1").
	Label    string
	Positive string
	// Types overrides the inferred type of columns by name: Numeric,
	// Categorical or Ignore (e.g. an ID column). Naming a column the file
	// lacks is an error, so typos don't pass silently.
	Types map[string]Kind
}

// Table is a loaded training file: the feature columns (ignored columns
// left out) and the 0/1 label. Rows are in file order.
type Table struct {
	Source   string
	Columns  []Column
	Label    []float64 // 1 for the positive class, 0 otherwise
	LabelCol string    // name of the label column
	Positive string    // label value of the positive class
	Negative string    // the other label value
	Lines    []int     // line of each row in the source, for messages
}

// Column is one feature. For a Numeric column Values holds the numbers;
// for a Categorical one the codes, indexes into Levels. NaN is missing in
// both. Levels is sorted (numerically when every level is a number, else
// bytewise), so the codes depend only on the set of values.
type Column struct {
	Name   string
	Kind   Kind
	Values []float64
	Levels []string
}

// LoadFile loads a CSV file; opts.Name defaults to path.
func LoadFile(path string, opts Options) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load data: %w", err)
	}
	defer f.Close()
	if opts.Name == "" {
		opts.Name = path
	}
	return Load(f, opts)
}

// Load reads a CSV training file: a header row, then one row per example.
// Fields are trimmed of surrounding white space. Empty, NA, NaN and null
// (any case) are missing values. A column is numeric if every non-missing
// value in the whole file parses as a number, else categorical, unless
// opts.Types says otherwise. Every error is an *Error.
func Load(r io.Reader, opts Options) (*Table, error) {
	name := opts.Name
	if name == "" {
		name = "input"
	}
	if opts.Label == "" {
		return nil, &Error{File: name, Msg: "no label column given", Kind: ErrOptions}
	}
	if strings.TrimSpace(opts.Positive) == "" {
		return nil, &Error{File: name, Msg: "no positive label value given", Kind: ErrOptions}
	}
	src := newBlocks(r, name)
	rec, _, err := src.readHeader()
	if err != nil {
		return nil, err
	}
	header, err := columnNames(name, rec)
	if err != nil {
		return nil, err
	}
	labelIdx := slices.Index(header, strings.TrimSpace(opts.Label))
	if labelIdx < 0 {
		return nil, &Error{File: name, Line: 1, Column: opts.Label,
			Msg:  "label column not found; columns are " + quoteList(header, 50),
			Kind: ErrNoLabel}
	}
	kinds := make([]Kind, len(header))
	for col, k := range opts.Types {
		i := slices.Index(header, col)
		switch {
		case i < 0:
			return nil, &Error{File: name, Line: 1, Column: col,
				Msg:  "type given for a column the file lacks; columns are " + quoteList(header, 50),
				Kind: ErrUnknownColumn}
		case i == labelIdx:
			return nil, &Error{File: name, Line: 1, Column: col, Msg: "is the label column; it cannot be given a type", Kind: ErrOptions}
		case k < Numeric || k > Ignore:
			return nil, &Error{File: name, Line: 1, Column: col, Msg: fmt.Sprintf("invalid column type %v", k), Kind: ErrOptions}
		}
		kinds[i] = k
	}

	cols, lines, err := readColumns(&src, kinds)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, &Error{File: name, Msg: "no data rows (header only)", Kind: ErrEmpty}
	}

	t := &Table{Source: name, LabelCol: header[labelIdx], Positive: strings.TrimSpace(opts.Positive), Lines: lines}
	if err := t.setLabel(cols[labelIdx]); err != nil {
		return nil, err
	}
	var feats []int
	for j := range header {
		if j != labelIdx && kinds[j] != Ignore {
			feats = append(feats, j)
		}
	}
	// Parsing a column's values is most of loading a large file, and the
	// columns are independent: they are parsed on all cores. The error is
	// the first column's in file order, whichever finished first.
	t.Columns = make([]Column, len(feats))
	err = fanout.Each(len(feats), runtime.GOMAXPROCS(0), func(i int) error {
		j := feats[i]
		c, err := t.column(header[j], kinds[j], cols[j])
		t.Columns[i] = c
		cols[j] = cells{} // let the bytes go as soon as possible
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// setLabel converts the label strings to 0/1, checking that there are
// exactly two values and that one is the positive value.
func (t *Table) setLabel(vals cells) error {
	t.Label = make([]float64, vals.len())
	seen := map[string]bool{}
	var distinct []string
	for i, b := range vals.all() { // string(b) copies only where kept, as in column
		if isMissing(string(b)) {
			return &Error{File: t.Source, Line: t.Lines[i], Column: t.LabelCol, Msg: fmt.Sprintf("missing label value %q", b), Kind: ErrMissingLabel}
		}
		if !seen[string(b)] {
			v := string(b)
			seen[v] = true
			distinct = append(distinct, v)
		}
		if string(b) == t.Positive {
			t.Label[i] = 1
		}
	}
	sortLevels(distinct)
	if !seen[t.Positive] {
		return &Error{File: t.Source, Column: t.LabelCol,
			Msg:  fmt.Sprintf("positive value %q never occurs; values seen: %s", t.Positive, quoteList(distinct, 20)),
			Kind: ErrNoPositive}
	}
	if len(distinct) != 2 {
		return &Error{File: t.Source, Column: t.LabelCol,
			Msg:  fmt.Sprintf("label has %s, need exactly 2: %s", plural(len(distinct), "distinct value"), quoteList(distinct, 20)),
			Kind: ErrLabelValues}
	}
	for _, v := range distinct {
		if v != t.Positive {
			t.Negative = v
		}
	}
	return nil
}

// column types one feature column, inferring its kind when k is 0.
func (t *Table) column(name string, k Kind, vals cells) (Column, error) {
	c := Column{Name: name, Kind: k, Values: make([]float64, vals.len())}
	// The conversions string(b) below copy nothing: the strings stay on
	// the stack, and values are copied only where they are kept.
	if k != Categorical {
		numeric, inf := true, -1
		for i, b := range vals.all() {
			if isMissing(string(b)) {
				c.Values[i] = math.NaN()
				continue
			}
			f, ok := parseNumber(string(b))
			if !ok {
				if k == Numeric {
					return c, &Error{File: t.Source, Line: t.Lines[i], Column: name,
						Msg: fmt.Sprintf("value %q is not a number (the column is set to numeric)", b), Kind: ErrNotNumber}
				}
				numeric = false
				break
			}
			if math.IsInf(f, 0) && inf < 0 {
				inf = i // an error only if the column stays numeric
			}
			c.Values[i] = f
		}
		if numeric && inf >= 0 {
			return c, &Error{File: t.Source, Line: t.Lines[inf], Column: name,
				Msg: fmt.Sprintf("value %q is not a finite number (make the column categorical, or fix the value)", vals.at(inf)), Kind: ErrNotFinite}
		}
		if numeric {
			c.Kind = Numeric
			return c, nil
		}
	}
	c.Kind = Categorical
	code := map[string]int{}
	for _, b := range vals.all() {
		if _, seen := code[string(b)]; !seen && !isMissing(string(b)) {
			code[string(b)] = 0
		}
	}
	c.Levels = make([]string, 0, len(code))
	for v := range code {
		c.Levels = append(c.Levels, v)
	}
	for _, l := range c.Levels {
		if !utf8.ValidString(l) {
			// Levels go into the schema's JSON, which cannot hold them.
			line := 0
			for i, b := range vals.all() {
				if string(b) == l {
					line = t.Lines[i]
					break
				}
			}
			return c, &Error{File: t.Source, Line: line, Column: name,
				Msg: fmt.Sprintf("value %q is not valid UTF-8 (the file must be UTF-8)", l), Kind: ErrSyntax}
		}
	}
	sortLevels(c.Levels)
	for i, v := range c.Levels {
		code[v] = i
	}
	for i, b := range vals.all() {
		if n, ok := code[string(b)]; ok {
			c.Values[i] = float64(n)
		} else {
			c.Values[i] = math.NaN()
		}
	}
	return c, nil
}

// readColumns reads every record of src into columns, but those of kind
// Ignore, and returns them with each record's line. Blocks of records are
// parsed on all cores and kept in file order; the error is the first in
// file order. A few blocks are in flight at a time.
func readColumns(src *blocks, kinds []Kind) ([]cells, []int, error) {
	type part struct {
		blk   Block
		cols  []run
		lines []int
		err   error
		done  chan struct{}
	}
	workers := runtime.GOMAXPROCS(0)
	parts, work, stop := make(chan *part, 2*workers), make(chan *part), make(chan struct{})
	defer close(stop)
	go func() {
		defer close(parts)
		defer close(work)
		for {
			p := &part{done: make(chan struct{})}
			err := src.next(&p.blk)
			if err == io.EOF {
				return
			}
			if err != nil { // a part that is already done, and the last
				p.err = err
				close(p.done)
				select {
				case parts <- p:
				case <-stop:
				}
				return
			}
			select {
			case parts <- p:
			case <-stop:
				return
			}
			select {
			case work <- p:
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		go func() {
			for p := range work {
				// Sized for a block of equally wide columns: most grow
				// no more, or once.
				rows := bytes.Count(p.blk.Data, []byte{'\n'}) + 1
				p.cols = make([]run, len(kinds))
				for j := range p.cols {
					if kinds[j] != Ignore {
						p.cols[j] = run{buf: make([]byte, 0, len(p.blk.Data)/len(kinds)+16), end: make([]uint32, 0, rows)}
					}
				}
				p.err = src.records(&p.blk, len(kinds), true, func(rec []string, line int) error {
					for j, v := range rec {
						if kinds[j] != Ignore {
							p.cols[j].add(strings.TrimSpace(v))
						}
					}
					p.lines = append(p.lines, line)
					return nil
				})
				p.blk.Data = nil
				close(p.done)
			}
		}()
	}
	cols := make([]cells, len(kinds))
	var lines []int
	for p := range parts {
		<-p.done
		if p.err != nil {
			return nil, nil, p.err
		}
		for j := range cols {
			cols[j].runs = append(cols[j].runs, p.cols[j])
			cols[j].n += len(p.cols[j].end)
		}
		lines = append(lines, p.lines...)
	}
	return cols, lines, nil
}

// cells are a column's values as read: those of each block end to end in
// one buffer, with their end offsets. A string each cost a header, which
// the garbage collector scanned again and again while a large file was
// read (a third of loading's CPU time on a million rows); and the blocks'
// buffers are kept as parsed, not copied together.
type cells struct {
	runs []run
	n    int
}

type run struct {
	buf []byte
	end []uint32 // where each value ends in buf; a block is far below 4 GiB
}

func (r *run) add(v string) {
	r.buf = append(r.buf, v...)
	r.end = append(r.end, uint32(len(r.buf)))
}

func (c *cells) len() int { return c.n }

// all yields the values in order, with their index.
func (c *cells) all() iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		i := 0
		for _, r := range c.runs {
			var start uint32
			for _, e := range r.end {
				if !yield(i, r.buf[start:e]) {
					return
				}
				start, i = e, i+1
			}
		}
	}
}

// at is value i.
func (c *cells) at(i int) []byte {
	for _, r := range c.runs {
		if i < len(r.end) {
			var start uint32
			if i > 0 {
				start = r.end[i-1]
			}
			return r.buf[start:r.end[i]]
		}
		i -= len(r.end)
	}
	panic("data: cell index out of range")
}

// parseNumber parses a decimal number as training files write it. Unlike
// strconv.ParseFloat alone it refuses hexadecimal ("0x1p3") and digit
// separators ("1_000"), which no CSV writer means as numbers. Overflow
// gives ±Inf, which callers reject.
func parseNumber(s string) (float64, bool) {
	for i := 0; i < len(s); i++ { // one pass: values are short
		if c := s[i]; c == '_' || c|0x20 == 'x' {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	return f, true
}

// isRangeErr reports a number too large or small for float64; ParseFloat
// then returns ±Inf or 0, which the caller checks like any value.
func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// sortLevels sorts category levels: by numeric value when all are numbers
// (so "2" < "10"), ties and everything else bytewise. The order fixes the
// codes, so it must not depend on the order rows appear in.
func sortLevels(levels []string) {
	nums := make([]float64, len(levels))
	for i, l := range levels {
		f, ok := parseNumber(l)
		if !ok || math.IsNaN(f) {
			slices.Sort(levels)
			return
		}
		nums[i] = f
	}
	idx := make([]int, len(levels))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(nums[a], nums[b]); c != 0 {
			return c
		}
		return strings.Compare(levels[a], levels[b])
	})
	sorted := make([]string, len(levels))
	for i, j := range idx {
		sorted[i] = levels[j]
	}
	copy(levels, sorted)
}

// Rows returns the number of rows.
func (t *Table) Rows() int { return len(t.Label) }

// FeatureNames returns the feature column names in order.
func (t *Table) FeatureNames() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// Column returns the feature column with the given name.
func (t *Table) Column(name string) (*Column, bool) {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i], true
		}
	}
	return nil, false
}

// PositiveRate returns the fraction of rows in the positive class.
func (t *Table) PositiveRate() float64 {
	if len(t.Label) == 0 {
		return 0
	}
	var n float64
	for _, y := range t.Label {
		n += y
	}
	return n / float64(len(t.Label))
}

// Row writes row i's feature values into dst (grown if needed) and
// returns it.
func (t *Table) Row(i int, dst []float64) []float64 {
	dst = slices.Grow(dst[:0], len(t.Columns))[:len(t.Columns)]
	for j := range t.Columns {
		dst[j] = t.Columns[j].Values[i]
	}
	return dst
}

// Matrix returns the given rows (all rows when rows is nil) as a row-major
// feature matrix, one slice per row sharing one backing array.
func (t *Table) Matrix(rows []int) [][]float64 {
	if rows == nil {
		rows = make([]int, t.Rows())
		for i := range rows {
			rows[i] = i
		}
	}
	nf := len(t.Columns)
	back := make([]float64, len(rows)*nf)
	out := make([][]float64, len(rows))
	for k, i := range rows {
		out[k] = back[k*nf : (k+1)*nf : (k+1)*nf]
		for j := range t.Columns {
			out[k][j] = t.Columns[j].Values[i]
		}
	}
	return out
}

// Subset returns a table of the given rows, in the given order. Levels are
// kept whole (shared with t, not to be modified), so codes keep their
// meaning.
func (t *Table) Subset(rows []int) *Table {
	s := &Table{Source: t.Source, LabelCol: t.LabelCol, Positive: t.Positive, Negative: t.Negative,
		Label: make([]float64, len(rows)), Lines: make([]int, len(rows)), Columns: make([]Column, len(t.Columns))}
	for k, i := range rows {
		s.Label[k] = t.Label[i]
		s.Lines[k] = t.Lines[i]
	}
	for j, c := range t.Columns {
		v := make([]float64, len(rows))
		for k, i := range rows {
			v[k] = c.Values[i]
		}
		s.Columns[j] = Column{Name: c.Name, Kind: c.Kind, Values: v, Levels: c.Levels}
	}
	return s
}

// Record returns row i in the form a scoring request sends it: numeric
// features as float64, categorical ones as their level string, missing
// values as nil. [Schema.EncodeRow] turns it back into the row; it serves
// as the model directory's input example.
func (t *Table) Record(i int) map[string]any {
	out := make(map[string]any, len(t.Columns))
	for _, c := range t.Columns {
		switch v := c.Values[i]; {
		case math.IsNaN(v):
			out[c.Name] = nil
		case c.Kind == Categorical:
			out[c.Name] = c.Levels[int(v)]
		default:
			out[c.Name] = v
		}
	}
	return out
}
