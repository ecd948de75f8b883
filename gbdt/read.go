package gbdt

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrUnsupported marks a well-formed LightGBM model that Model cannot
// represent: multiclass, random forest, linear trees, objectives other than
// binary log loss with sigmoid 1.
var ErrUnsupported = errors.New("unsupported LightGBM model")

// FormatError reports a problem in a text model file, with the 1-based line
// and the key it concerns.
type FormatError struct {
	Line int    // 0 when the problem is not tied to one line
	Key  string // the key or section concerned, if any
	Err  error
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("model file")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, " (%s)", e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(line int, key, format string, args ...any) error {
	return &FormatError{Line: line, Key: key, Err: fmt.Errorf(format, args...)}
}

// maxLeaves bounds num_leaves so that a corrupt file cannot make the reader
// allocate without limit; LightGBM's own limit is 131072.
const maxLeaves = 131072

// Limits bound what ReadTextLimits reads, each checked before the memory it
// guards is allocated: the file is read line by line, a list's values are
// counted before they are split, and a tree's arrays are sized by
// num_leaves only after it was checked. A model takes in memory at most
// about four times its file size (8-byte numbers for values of two bytes
// or more of text) plus a few hundred bytes per tree.
type Limits struct {
	MaxBytes  int64 // bytes read (the reader stops at "end of parameters")
	MaxLine   int   // bytes of one line
	MaxTrees  int   // trees (boosting iterations)
	MaxLeaves int   // leaves of one tree, at most LightGBM's 131072
}

// DefaultLimits are ReadText's limits: 1 GiB files, 16 MiB lines (a tree of
// 131072 leaves has lines of about 3 MiB), 100000 trees (LightGBM's default
// is 100 iterations; credit models use hundreds) and LightGBM's 131072
// leaves.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 1 << 30, MaxLine: 16 << 20, MaxTrees: 100000, MaxLeaves: maxLeaves}
}

// line is one line of the file with its 1-based number and byte offset.
type line struct {
	num  int
	off  int
	text string
}

// lineReader reads a file a line at a time; the parser looks at one line
// (cur) before consuming it.
type lineReader struct {
	r   *bufio.Reader
	lim Limits
	buf []byte
	off int // byte offset of the next line
	num int // number of the last line read
	cur line
	ok  bool // cur holds a line; false at the end of the file
	err error
}

// advance reads the next line into cur.
func (l *lineReader) advance() error {
	if l.err != nil {
		return l.err
	}
	l.buf = l.buf[:0]
	for {
		frag, err := l.r.ReadSlice('\n')
		n := len(l.buf) + len(frag)
		if n > l.lim.MaxLine+1 { // +1: the newline
			return l.fail(formatErr(l.num+1, "", "line longer than %d bytes", l.lim.MaxLine))
		}
		if n > cap(l.buf) {
			// Double (append grows large slices by a quarter, which
			// copies a long line about five times over).
			b := make([]byte, len(l.buf), min(max(2*cap(l.buf), n), l.lim.MaxLine+1))
			copy(b, l.buf)
			l.buf = b
		}
		l.buf = append(l.buf, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return l.fail(fmt.Errorf("read model: %w", err))
		}
		break
	}
	if len(l.buf) == 0 {
		l.ok = false
		return nil
	}
	if int64(l.off)+int64(len(l.buf)) > l.lim.MaxBytes {
		return l.fail(formatErr(l.num+1, "", "the file is more than %d bytes", l.lim.MaxBytes))
	}
	l.num++
	text := bytes.TrimSuffix(bytes.TrimSuffix(l.buf, []byte("\n")), []byte("\r"))
	l.cur = line{num: l.num, off: l.off, text: string(text)}
	l.off += len(l.buf)
	l.ok = true
	return nil
}

// fail ends the reading with err: the parser sees the end of the file
// and reports err instead of what it misses.
func (l *lineReader) fail(err error) error {
	l.err, l.ok = err, false
	return err
}

// ReadText reads a LightGBM text model file (as LightGBM 2.x-4.x or
// WriteText write it) for binary classification, within DefaultLimits.
// Errors are *FormatError, wrapping ErrUnsupported for models Model cannot
// represent.
func ReadText(r io.Reader) (*Model, error) { return ReadTextLimits(r, DefaultLimits()) }

// ReadTextLimits is ReadText within lim; zero fields take the default.
func ReadTextLimits(r io.Reader, lim Limits) (*Model, error) {
	def := DefaultLimits()
	lim.MaxBytes = cmp.Or(lim.MaxBytes, def.MaxBytes)
	lim.MaxLine = cmp.Or(lim.MaxLine, def.MaxLine)
	lim.MaxTrees = cmp.Or(lim.MaxTrees, def.MaxTrees)
	lim.MaxLeaves = min(cmp.Or(lim.MaxLeaves, def.MaxLeaves), maxLeaves)
	p := &parser{in: &lineReader{r: bufio.NewReaderSize(r, 64<<10), lim: lim}, lim: lim}
	if err := p.in.advance(); err != nil {
		return nil, err
	}
	return p.model()
}

type parser struct {
	in  *lineReader
	lim Limits
}

func (p *parser) eof() bool { return !p.in.ok }

// line is the line the parser looks at.
func (p *parser) line() line { return p.in.cur }

// next consumes the current line.
func (p *parser) next() error { return p.in.advance() }

// atEnd is the error for a file that ends where more was expected: the
// reading error if reading stopped early, else missing.
func (p *parser) atEnd(missing error) error {
	if p.in.err != nil {
		return p.in.err
	}
	return missing
}

// lastLine is the number to report for a problem at the end of the file.
func (p *parser) lastLine() int { return max(p.in.num, 1) }

func (p *parser) model() (*Model, error) {
	if p.eof() || p.line().text != "tree" {
		return nil, formatErr(1, "", "first line must be \"tree\" (not a LightGBM text model)")
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	hdr, err := p.header()
	if err != nil {
		return nil, err
	}
	m := &Model{}
	nf, err := hdr.features(m)
	if err != nil {
		return nil, err
	}
	if err := p.trees(m, nf, hdr); err != nil {
		return nil, err
	}
	if err := p.trailer(m); err != nil {
		return nil, err
	}
	imp := m.importance()
	m.SplitImportance, m.GainImportance = imp.split, imp.gain
	return m, nil
}

type header struct {
	vals  map[string]string
	lines map[string]int
}

// headerKeys are the header keys LightGBM writes; any other key is refused
// since it might change what the model computes.
var headerKeys = map[string]bool{
	"version": true, "num_class": true, "num_tree_per_iteration": true,
	"label_index": true, "max_feature_idx": true, "objective": true,
	"average_output": true, "feature_names": true, "monotone_constraints": true,
	"feature_infos": true, "tree_sizes": true,
}

func (p *parser) header() (*header, error) {
	h := &header{vals: map[string]string{}, lines: map[string]int{}}
	for ; !p.eof(); p.next() {
		l := p.line()
		if l.text == "" {
			continue
		}
		if strings.HasPrefix(l.text, "Tree=") || l.text == "end of trees" {
			break
		}
		key, val, _ := strings.Cut(l.text, "=")
		if !headerKeys[key] {
			return nil, formatErr(l.num, key, "unknown header line %q", clip(l.text))
		}
		if _, dup := h.vals[key]; dup {
			return nil, formatErr(l.num, key, "key repeated")
		}
		h.vals[key] = val
		h.lines[key] = l.num
	}
	if err := p.atEnd(nil); err != nil {
		return nil, err
	}
	return h, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func (h *header) get(key string) (string, int, error) {
	v, ok := h.vals[key]
	if !ok {
		return "", 0, formatErr(0, key, "header has no %s", key)
	}
	return v, h.lines[key], nil
}

func (h *header) int(key string) (int, error) {
	v, ln, err := h.get(key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, formatErr(ln, key, "not an integer: %q", clip(v))
	}
	return n, nil
}

// features checks the header and fills the model's features; it returns
// the number of features.
func (h *header) features(m *Model) (int, error) {
	if v, ok := h.vals["version"]; ok {
		switch v {
		case "v2", "v3", "v4":
		default:
			return 0, formatErr(h.lines["version"], "version", "version %q: %w (known: v2, v3, v4)", clip(v), ErrUnsupported)
		}
	}
	nc, err := h.int("num_class")
	if err != nil {
		return 0, err
	}
	if nc != 1 {
		return 0, formatErr(h.lines["num_class"], "num_class", "num_class=%d: multiclass: %w", nc, ErrUnsupported)
	}
	if _, ok := h.vals["num_tree_per_iteration"]; ok {
		k, err := h.int("num_tree_per_iteration")
		if err != nil {
			return 0, err
		}
		if k != 1 {
			return 0, formatErr(h.lines["num_tree_per_iteration"], "num_tree_per_iteration", "%d trees per iteration: %w", k, ErrUnsupported)
		}
	}
	if _, err := h.int("label_index"); err != nil {
		return 0, err
	}
	if _, ok := h.vals["average_output"]; ok {
		return 0, formatErr(h.lines["average_output"], "average_output", "random forest (averaged output): %w", ErrUnsupported)
	}
	obj, ln, err := h.get("objective")
	if err != nil {
		return 0, fmt.Errorf("%w (%w: only objective=%s)", err, ErrUnsupported, objectiveLine)
	}
	if obj != objectiveLine {
		return 0, formatErr(ln, "objective", "objective %q: %w (only %q)", clip(obj), ErrUnsupported, objectiveLine)
	}
	maxIdx, err := h.int("max_feature_idx")
	if err != nil {
		return 0, err
	}
	if maxIdx < 0 || maxIdx > 1<<20 {
		return 0, formatErr(h.lines["max_feature_idx"], "max_feature_idx", "out of range: %d", maxIdx)
	}
	nf := maxIdx + 1
	for _, key := range []string{"feature_names", "feature_infos"} {
		v, ln, err := h.get(key)
		if err != nil {
			return 0, err
		}
		if n := strings.Count(v, " ") + 1; n != nf {
			return 0, formatErr(ln, key, "%d entries, want max_feature_idx+1 = %d", n, nf)
		}
		f := strings.Split(v, " ")
		for i, s := range f {
			if s == "" {
				return 0, formatErr(ln, key, "entry %d is empty", i)
			}
		}
		if key == "feature_names" {
			m.FeatureNames = f
		} else {
			m.FeatureInfos = f
		}
	}
	return nf, nil
}

func (p *parser) trees(m *Model, nf int, h *header) error {
	var sizes []int
	sizesLine := h.lines["tree_sizes"]
	if v, ok := h.vals["tree_sizes"]; ok && v != "" {
		if n := strings.Count(v, " ") + 1; n > p.lim.MaxTrees {
			return formatErr(sizesLine, "tree_sizes", "%d sizes: more than %d trees", n, p.lim.MaxTrees)
		}
		for i, f := range strings.Split(v, " ") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 {
				return formatErr(sizesLine, "tree_sizes", "entry %d: not a size: %q", i, clip(f))
			}
			sizes = append(sizes, n)
		}
	}
	var starts []int // byte offset of each Tree= line
	for {
		for !p.eof() && p.line().text == "" {
			p.next()
		}
		if p.eof() {
			return p.atEnd(formatErr(p.lastLine(), "", "missing \"end of trees\""))
		}
		l := p.line()
		if l.text == "end of trees" {
			starts = append(starts, l.off)
			if err := p.next(); err != nil {
				return err
			}
			break
		}
		idx, ok := strings.CutPrefix(l.text, "Tree=")
		if !ok {
			return formatErr(l.num, "", "expected \"Tree=%d\" or \"end of trees\", got %q", len(m.Trees), clip(l.text))
		}
		if idx != strconv.Itoa(len(m.Trees)) {
			return formatErr(l.num, "Tree", "tree index %q, want %d", clip(idx), len(m.Trees))
		}
		if len(m.Trees) == p.lim.MaxTrees {
			return formatErr(l.num, "Tree", "more than %d trees", p.lim.MaxTrees)
		}
		starts = append(starts, l.off)
		if err := p.next(); err != nil {
			return err
		}
		t, err := p.tree(nf, l.num)
		if err != nil {
			return err
		}
		m.Trees = append(m.Trees, *t)
	}
	if sizes != nil {
		if len(sizes) != len(m.Trees) {
			return formatErr(sizesLine, "tree_sizes", "%d sizes for %d trees", len(sizes), len(m.Trees))
		}
		for i, s := range sizes {
			if got := starts[i+1] - starts[i]; got != s {
				return formatErr(sizesLine, "tree_sizes", "Tree=%d is %d bytes, tree_sizes says %d (LightGBM seeks by these sizes)", i, got, s)
			}
		}
	}
	return nil
}

// treeKeys are the keys of a tree block, as LightGBM writes them.
var treeKeys = map[string]bool{
	"num_leaves": true, "num_cat": true, "split_feature": true, "split_gain": true,
	"threshold": true, "decision_type": true, "left_child": true, "right_child": true,
	"leaf_value": true, "leaf_weight": true, "leaf_count": true, "internal_value": true,
	"internal_weight": true, "internal_count": true, "cat_boundaries": true,
	"cat_threshold": true, "is_linear": true, "shrinkage": true,
	// Linear-tree keys: recognised only to refuse the model clearly.
	"leaf_const": true, "num_features": true, "leaf_features": true, "leaf_coeff": true,
}

// fields holds a tree block's values and the line of each key.
type fields struct {
	vals      map[string]string
	lines     map[string]int
	start     int
	maxLeaves int
}

// tree reads the block of the tree whose "Tree=" line is number start.
func (p *parser) tree(nf, start int) (*Tree, error) {
	fs := fields{vals: map[string]string{}, lines: map[string]int{}, start: start, maxLeaves: p.lim.MaxLeaves}
	for ; !p.eof() && p.line().text != ""; p.next() {
		l := p.line()
		key, val, ok := strings.Cut(l.text, "=")
		if !ok || !treeKeys[key] {
			return nil, formatErr(l.num, key, "unknown tree line %q", clip(l.text))
		}
		if _, dup := fs.vals[key]; dup {
			return nil, formatErr(l.num, key, "key repeated")
		}
		fs.vals[key] = val
		fs.lines[key] = l.num
	}
	if err := p.atEnd(nil); err != nil {
		return nil, err
	}
	return fs.tree(nf)
}

func (fs *fields) err(key, format string, args ...any) error {
	ln, ok := fs.lines[key]
	if !ok {
		ln = fs.start
	}
	return formatErr(ln, key, format, args...)
}

// list splits a key's value into exactly n space-separated fields; a
// missing key is an error when required, otherwise n zero values.
func (fs *fields) list(key string, n int, required bool) ([]string, error) {
	v, ok := fs.vals[key]
	if !ok {
		if required {
			return nil, fs.err(key, "tree has no %s", key)
		}
		return nil, nil
	}
	if v == "" {
		if n != 0 {
			return nil, fs.err(key, "empty, want %d values", n)
		}
		return nil, nil
	}
	// Counted before splitting: a line of many short values must not
	// cost memory before it is refused.
	if got := strings.Count(v, " ") + 1; got != n {
		return nil, fs.err(key, "%d values, want %d", got, n)
	}
	return strings.Split(v, " "), nil
}

func (fs *fields) ints(key string, n int, required bool) ([]int, error) {
	f, err := fs.list(key, n, required)
	if err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i, s := range f {
		x, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, fs.err(key, "value %d: not an integer: %q", i, clip(s))
		}
		out[i] = int(x)
	}
	return out, nil
}

func (fs *fields) floats(key string, n int, required bool) ([]float64, error) {
	f, err := fs.list(key, n, required)
	if err != nil {
		return nil, err
	}
	out := make([]float64, n)
	for i, s := range f {
		x, err := parseFloat(s)
		if err != nil {
			return nil, fs.err(key, "value %d: not a number: %q", i, clip(s))
		}
		out[i] = x
	}
	return out, nil
}

// parseFloat reads a number as LightGBM writes it ("1e-05", "inf", "nan").
func parseFloat(s string) (float64, error) {
	switch s {
	case "inf", "+inf":
		return math.Inf(1), nil
	case "-inf":
		return math.Inf(-1), nil
	case "nan", "-nan":
		return math.NaN(), nil
	}
	if strings.ContainsAny(s, "xXpP_iInN") { // no hex floats, underscores or spelled-out specials
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}

func (fs *fields) scalar(key string) (int, error) {
	v, ok := fs.vals[key]
	if !ok {
		return 0, fs.err(key, "tree has no %s", key)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fs.err(key, "not an integer: %q", clip(v))
	}
	return n, nil
}

func (fs *fields) tree(nf int) (*Tree, error) {
	t := &Tree{Shrinkage: 1}
	var err error
	if t.NumLeaves, err = fs.scalar("num_leaves"); err != nil {
		return nil, err
	}
	if t.NumLeaves < 1 || t.NumLeaves > fs.maxLeaves {
		return nil, fs.err("num_leaves", "%d is out of range [1, %d]", t.NumLeaves, fs.maxLeaves)
	}
	if t.NumCat, err = fs.scalar("num_cat"); err != nil {
		return nil, err
	}
	if t.NumCat < 0 || t.NumCat > t.NumLeaves-1 {
		return nil, fs.err("num_cat", "%d is out of range [0, num_leaves-1]", t.NumCat)
	}
	if v, ok := fs.vals["is_linear"]; ok && v != "0" {
		if v == "1" {
			return nil, fs.err("is_linear", "linear trees: %w", ErrUnsupported)
		}
		return nil, fs.err("is_linear", "want 0 or 1, got %q", clip(v))
	}
	for _, k := range []string{"leaf_const", "num_features", "leaf_features", "leaf_coeff"} {
		if _, ok := fs.vals[k]; ok {
			return nil, fs.err(k, "linear-tree key: %w", ErrUnsupported)
		}
	}
	if v, ok := fs.vals["shrinkage"]; ok {
		if t.Shrinkage, err = parseFloat(v); err != nil {
			return nil, fs.err("shrinkage", "not a number: %q", clip(v))
		}
	}
	nl, ni := t.NumLeaves, t.NumLeaves-1
	if t.LeafValue, err = fs.floats("leaf_value", nl, true); err != nil {
		return nil, err
	}
	if t.LeafCount, err = fs.ints("leaf_count", nl, false); err != nil {
		return nil, err
	}
	if nl == 1 {
		// LightGBM ignores the node arrays and leaf_weight of a one-leaf
		// tree; so do we, keeping leaf_weight if it holds the one value.
		if w, err := fs.floats("leaf_weight", 1, false); err == nil && fs.vals["leaf_weight"] != "" {
			t.LeafWeight = w
		}
		return t, nil
	}
	if t.LeftChild, err = fs.ints("left_child", ni, true); err != nil {
		return nil, err
	}
	if t.RightChild, err = fs.ints("right_child", ni, true); err != nil {
		return nil, err
	}
	if t.SplitFeature, err = fs.ints("split_feature", ni, true); err != nil {
		return nil, err
	}
	if t.Threshold, err = fs.floats("threshold", ni, true); err != nil {
		return nil, err
	}
	if t.SplitGain, err = fs.floats("split_gain", ni, false); err != nil {
		return nil, err
	}
	if t.InternalCount, err = fs.ints("internal_count", ni, false); err != nil {
		return nil, err
	}
	if t.InternalValue, err = fs.floats("internal_value", ni, false); err != nil {
		return nil, err
	}
	if t.InternalWeight, err = fs.floats("internal_weight", ni, false); err != nil {
		return nil, err
	}
	if t.LeafWeight, err = fs.floats("leaf_weight", nl, false); err != nil {
		return nil, err
	}
	dt, err := fs.ints("decision_type", ni, false)
	if err != nil {
		return nil, err
	}
	t.DecisionType = make([]int8, ni)
	for i, d := range dt {
		if d < 0 || d > 127 {
			return nil, fs.err("decision_type", "value %d: %d is out of range", i, d)
		}
		t.DecisionType[i] = int8(d)
	}
	if t.NumCat > 0 {
		if t.CatBoundaries, err = fs.ints("cat_boundaries", t.NumCat+1, true); err != nil {
			return nil, err
		}
		last := t.CatBoundaries[t.NumCat]
		if last < 0 || last > 1<<24 {
			return nil, fs.err("cat_boundaries", "last boundary %d is out of range", last)
		}
		f, err := fs.list("cat_threshold", last, true)
		if err != nil {
			return nil, err
		}
		t.CatThreshold = make([]uint32, last)
		for i, s := range f {
			x, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, fs.err("cat_threshold", "value %d: not a 32-bit unsigned integer: %q", i, clip(s))
			}
			t.CatThreshold[i] = uint32(x)
		}
	}
	if err := t.validate(nf); err != nil {
		return nil, formatErr(fs.start, "", "Tree: %w", err)
	}
	return t, nil
}

// maxParams bounds the parameters section; LightGBM writes about 100.
const maxParams = 10000

// trailer reads what follows "end of trees": only the parameters section
// matters; feature importances are recomputed from the trees, and the
// parser and pandas_categorical sections are not used for prediction.
func (p *parser) trailer(m *Model) error {
	in := false
	for ; !p.eof(); p.next() {
		l := p.line()
		switch {
		case l.text == "parameters:":
			in = true
		case l.text == "end of parameters":
			return nil
		case in && l.text != "":
			s, ok := strings.CutPrefix(l.text, "[")
			if ok {
				s, ok = strings.CutSuffix(s, "]")
			}
			var k, v string
			if ok {
				k, v, ok = strings.Cut(s, ": ")
			}
			if !ok || k == "" {
				return formatErr(l.num, "parameters", "want \"[key: value]\", got %q", clip(l.text))
			}
			if len(m.Params) == maxParams {
				return formatErr(l.num, "parameters", "more than %d parameters", maxParams)
			}
			m.Params = append(m.Params, Param{Key: k, Value: v})
		}
	}
	if err := p.atEnd(nil); err != nil {
		return err
	}
	if in {
		return formatErr(p.lastLine(), "parameters", "missing \"end of parameters\"")
	}
	return nil
}

// Validate checks that m is a well-formed model: consistent array lengths,
// each tree a proper binary tree over the model's features, valid decision
// types and categorical bitsets. Predict, Contributions and WriteText rely
// on it; ReadText returns only models that pass.
func (m *Model) Validate() error {
	if len(m.FeatureNames) == 0 {
		return errors.New("model has no features")
	}
	if len(m.FeatureInfos) != len(m.FeatureNames) {
		return fmt.Errorf("model has %d feature infos for %d features", len(m.FeatureInfos), len(m.FeatureNames))
	}
	for i := range m.Trees {
		if err := m.Trees[i].validate(len(m.FeatureNames)); err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
	}
	return nil
}

func (t *Tree) validate(nf int) error {
	nl, ni := t.NumLeaves, t.NumLeaves-1
	if nl < 1 || nl > maxLeaves {
		return fmt.Errorf("num_leaves %d is out of range [1, %d]", nl, maxLeaves)
	}
	lengths := []struct {
		name     string
		got, arr int
	}{
		{"leaf_value", len(t.LeafValue), nl},
		{"leaf_count", len(t.LeafCount), nl},
	}
	if nl == 1 {
		if len(t.LeafWeight) > 1 {
			return fmt.Errorf("leaf_weight has %d values for one leaf", len(t.LeafWeight))
		}
		if t.NumCat != 0 {
			return fmt.Errorf("one-leaf tree has num_cat %d", t.NumCat)
		}
	} else {
		lengths = append(lengths, []struct {
			name     string
			got, arr int
		}{
			{"leaf_weight", len(t.LeafWeight), nl},
			{"split_feature", len(t.SplitFeature), ni},
			{"split_gain", len(t.SplitGain), ni},
			{"threshold", len(t.Threshold), ni},
			{"decision_type", len(t.DecisionType), ni},
			{"left_child", len(t.LeftChild), ni},
			{"right_child", len(t.RightChild), ni},
			{"internal_value", len(t.InternalValue), ni},
			{"internal_weight", len(t.InternalWeight), ni},
			{"internal_count", len(t.InternalCount), ni},
		}...)
	}
	for _, l := range lengths {
		if l.got != l.arr {
			return fmt.Errorf("%s has %d values, want %d", l.name, l.got, l.arr)
		}
	}
	for i, c := range t.LeafCount {
		if c < 0 {
			return fmt.Errorf("leaf_count[%d] = %d is negative", i, c)
		}
	}
	if nl == 1 {
		return nil
	}
	if t.NumCat < 0 || t.NumCat > ni {
		return fmt.Errorf("num_cat %d is out of range [0, %d]", t.NumCat, ni)
	}
	if t.NumCat > 0 {
		if len(t.CatBoundaries) != t.NumCat+1 {
			return fmt.Errorf("cat_boundaries has %d values, want num_cat+1 = %d", len(t.CatBoundaries), t.NumCat+1)
		}
		if t.CatBoundaries[0] != 0 {
			return fmt.Errorf("cat_boundaries[0] = %d, want 0", t.CatBoundaries[0])
		}
		for k := 1; k <= t.NumCat; k++ {
			if t.CatBoundaries[k] < t.CatBoundaries[k-1] {
				return fmt.Errorf("cat_boundaries decreases at %d", k)
			}
		}
		if last := t.CatBoundaries[t.NumCat]; last != len(t.CatThreshold) {
			return fmt.Errorf("cat_boundaries ends at %d but cat_threshold has %d words", last, len(t.CatThreshold))
		}
	} else if len(t.CatBoundaries) != 0 || len(t.CatThreshold) != 0 {
		return errors.New("cat_boundaries/cat_threshold given with num_cat 0")
	}
	for n := 0; n < ni; n++ {
		if f := t.SplitFeature[n]; f < 0 || f >= nf {
			return fmt.Errorf("node %d: split_feature %d is out of range [0, %d)", n, f, nf)
		}
		if c := t.InternalCount[n]; c < 0 {
			return fmt.Errorf("node %d: internal_count %d is negative", n, c)
		}
		dt := t.DecisionType[n]
		if dt < 0 || dt > 15 {
			return fmt.Errorf("node %d: decision_type %d has unknown bits", n, dt)
		}
		if (dt>>missingTypeShift)&3 == 3 {
			return fmt.Errorf("node %d: decision_type %d has missing type 3", n, dt)
		}
		if dt&catMask != 0 {
			// LightGBM routes every node numerically when num_cat is 0.
			if t.NumCat == 0 {
				return fmt.Errorf("node %d: categorical split in a tree with num_cat 0", n)
			}
			k := t.Threshold[n]
			if k != math.Trunc(k) || k < 0 || k >= float64(t.NumCat) {
				return fmt.Errorf("node %d: categorical threshold %v is not an index in [0, %d)", n, k, t.NumCat)
			}
		} else if math.IsNaN(t.Threshold[n]) {
			return fmt.Errorf("node %d: threshold is NaN", n)
		}
	}
	// Every node but the root and every leaf must be the child of exactly
	// one node, and all must hang off the root: then Leaf terminates.
	parents := make([]int, ni+nl) // internal nodes first, then leaves
	for n := 0; n < ni; n++ {
		for _, c := range [2]int{t.LeftChild[n], t.RightChild[n]} {
			if c >= ni || c < -nl || c == 0 {
				return fmt.Errorf("node %d: child %d is out of range", n, c)
			}
			slot := c
			if c < 0 {
				slot = ni + ^c
			}
			parents[slot]++
			if parents[slot] > 1 {
				return fmt.Errorf("node %d: child %d has two parents", n, c)
			}
		}
	}
	seen := 0
	stack := []int{0}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		seen++
		if seen > ni {
			return errors.New("nodes form a cycle")
		}
		for _, c := range [2]int{t.LeftChild[n], t.RightChild[n]} {
			if c > 0 {
				stack = append(stack, c)
			}
		}
	}
	if seen != ni {
		return fmt.Errorf("%d of %d nodes are unreachable from the root", ni-seen, ni)
	}
	return nil
}
