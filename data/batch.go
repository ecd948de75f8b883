package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// Batch is a CSV file of new rows encoded by a schema for scoring, read
// whole (see [BatchReader] to read one in bounded chunks). Columns are
// matched to features by name; the file's other columns (an ID, or the
// label) are passed through for the output.
type Batch struct {
	Source string
	X      [][]float64 // one feature vector per row, in schema order
	Lines  []int       // line of each row in the source
	// Extra names the file's columns that are not features, in file
	// order; ExtraValues holds their raw values, one slice per row.
	Extra       []string
	ExtraValues [][]string
	// Unseen counts, per feature, the rows whose category was not seen in
	// training (encoded as missing).
	Unseen map[string]int
}

// Rows returns the number of rows.
func (b *Batch) Rows() int { return len(b.X) }

// Open opens a data file for reading, decompressing it when its name ends
// in ".gz".
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(path, ".gz") {
		return f, nil
	}
	z, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		f.Close()
		return nil, &Error{File: path, Msg: "not a gzip file: " + err.Error(), Kind: ErrSyntax}
	}
	return &gzipFile{z, f}, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzipFile) Close() error {
	err := g.Reader.Close()
	if err2 := g.f.Close(); err == nil {
		err = err2
	}
	return err
}

// LoadBatchFile loads a CSV file of new rows (gzip-compressed when its name
// ends in ".gz"); see [Schema.LoadBatch].
func (s *Schema) LoadBatchFile(path string) (*Batch, error) {
	f, err := Open(path)
	if err != nil {
		return nil, fmt.Errorf("load batch: %w", err)
	}
	defer f.Close()
	return s.LoadBatch(f, path)
}

// LoadBatch reads a CSV file with a header row and encodes each row by the
// schema's [Encoder] rules (no range checks). A required feature without
// a column, a non-number in a numeric feature's column and malformed CSV
// are errors (*Error, naming file, line and column); a non-required
// feature without a column is missing in every row. A header with no rows
// gives an empty batch.
func (s *Schema) LoadBatch(r io.Reader, name string) (*Batch, error) {
	if name == "" {
		name = "input"
	}
	idx, err := s.lookups()
	if err != nil {
		return nil, fmt.Errorf("load batch %s: invalid schema: %w", name, err)
	}
	br, err := idx.encoder(s).NewBatchReader(r, name)
	if err != nil {
		return nil, err
	}
	b := &Batch{Source: name, Unseen: map[string]int{}}
	for _, j := range br.extra {
		b.Extra = append(b.Extra, br.names[j])
	}
	var blk Block
	var rows Rows
	for {
		err := br.Next(&blk)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := br.Decode(&blk, &rows); err != nil {
			return nil, err
		}
		for i, x := range rows.X {
			b.X = append(b.X, append([]float64(nil), x...))
			b.Lines = append(b.Lines, rows.Lines[i])
			extra := make([]string, len(br.extra))
			for k, j := range br.extra {
				extra[k] = rows.Records[i][j]
			}
			b.ExtraValues = append(b.ExtraValues, extra)
		}
		for _, n := range rows.Notes {
			if n.Note == NoteUnseen {
				b.Unseen[s.Features[n.Feature].Name]++
			}
		}
	}
	return b, nil
}

// BlockSize is the size a [BatchReader] cuts its input into; a record
// longer than MaxRecord is refused.
const (
	BlockSize = 256 << 10
	MaxRecord = 16 << 20
)

// BatchReader reads a CSV file of rows to score (a header row naming the
// columns, then one row per applicant) in blocks of whole records, so that
// a file of any size is scored in constant memory, and blocks can be
// decoded concurrently ([BatchReader.Decode] is safe for concurrent use).
// Values are encoded by the [Encoder] rules for CSV cells; columns that
// are not features are kept for the output.
type BatchReader struct {
	enc    *Encoder
	name   string
	header []string // the header record as read (a byte order mark kept)
	names  []string // column names: trimmed, without the byte order mark
	colOf  []int    // feature -> column, -1 when absent
	extra  []int    // columns that are not features

	r         *bufio.Reader
	blockSize int
	carry     []byte // bytes read past the last whole record
	line      int    // line of the next block's first record
	eof       bool
}

// Block is a run of whole CSV records of a [BatchReader]'s input.
type Block struct {
	Data []byte
	Line int // line of the first record in the file
}

// Rows are the decoded records of one [Block].
type Rows struct {
	X       [][]float64 // feature vectors in schema order
	Records [][]string  // every column of each record, as read
	Lines   []int       // line of each record in the file
	// Notes are the warnings found, in row order (refusals are errors).
	Notes []CellNote

	flat []float64
}

// CellNote is a warning about one value: row index in its [Rows], feature
// index in the schema.
type CellNote struct {
	Row, Feature int
	Note         Note
}

// NewBatchReader reads the header of a CSV file of rows to score and
// checks that every required feature has a column.
func (e *Encoder) NewBatchReader(r io.Reader, name string) (*BatchReader, error) {
	b := &BatchReader{enc: e, name: name, r: bufio.NewReaderSize(r, 64<<10), line: 1, blockSize: BlockSize}
	rec, err := b.readHeader()
	if err != nil {
		return nil, err
	}
	b.header = rec
	names := slices.Clone(rec)
	if len(names) > 0 {
		names[0] = strings.TrimPrefix(names[0], "\ufeff")
	}
	if b.names, err = columnNames(name, names); err != nil {
		return nil, err
	}
	s := e.schema
	b.colOf = make([]int, len(s.Features))
	for i := range b.colOf {
		b.colOf[i] = -1
	}
	for j, h := range b.names {
		if i := e.Index(h); i >= 0 {
			b.colOf[i] = j
		} else {
			b.extra = append(b.extra, j)
		}
	}
	var missing []string
	for i, f := range s.Features {
		if b.colOf[i] < 0 && f.Required {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return nil, &Error{File: name, Line: 1, Column: missing[0],
			Msg: fmt.Sprintf("required feature columns missing: %s; the file has %s",
				quoteList(missing, 20), quoteList(b.names, 50)),
			Kind: ErrMissingFeature}
	}
	return b, nil
}

// Header returns the header record as the file has it (for output).
func (b *BatchReader) Header() []string { return b.header }

// Extra returns the names of the columns that are not features.
func (b *BatchReader) Extra() []string {
	out := make([]string, len(b.extra))
	for k, j := range b.extra {
		out[k] = b.names[j]
	}
	return out
}

// Name returns the source name errors give.
func (b *BatchReader) Name() string { return b.name }

// Encoder returns the encoder the reader encodes with.
func (b *BatchReader) Encoder() *Encoder { return b.enc }

// Cell returns the value of feature i in a record as the file has it, and
// its column name.
func (b *BatchReader) Cell(rec []string, i int) (value, column string) {
	if j := b.colOf[i]; j >= 0 {
		return rec[j], b.names[j]
	}
	return "", b.enc.schema.Features[i].Name
}

// readHeader reads the first record (after any blank lines, which csv
// skips too). A byte order mark is skipped for parsing and kept on the
// first field, as the file has it.
func (b *BatchReader) readHeader() ([]string, error) {
	for len(b.carry) < 3 && !b.eof {
		if err := b.fill(); err != nil {
			return nil, err
		}
	}
	bom := bytes.HasPrefix(b.carry, []byte("\xef\xbb\xbf"))
	if bom {
		b.carry = append(b.carry[:0], b.carry[3:]...)
	}
	for headerEnd(b.carry) < 0 && !b.eof {
		if len(b.carry) > MaxRecord {
			return nil, &Error{File: b.name, Line: 1, Msg: fmt.Sprintf("the header is longer than %d bytes", MaxRecord), Kind: ErrSyntax}
		}
		if err := b.fill(); err != nil {
			return nil, err
		}
	}
	end := headerEnd(b.carry)
	if end < 0 {
		end = len(b.carry)
	}
	head := b.carry[:end]
	cr := csv.NewReader(bytes.NewReader(head))
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: b.name, Msg: "empty file: no header row", Kind: ErrEmpty}
	}
	if err != nil {
		return nil, b.parseError(err, 0)
	}
	if bom {
		rec[0] = "\ufeff" + rec[0]
	}
	b.line += bytes.Count(head, []byte{'\n'})
	b.carry = append(b.carry[:0], b.carry[end:]...)
	return rec, nil
}

// headerEnd returns the index just past the first record of data (blank
// lines before it skipped), or -1 when data does not hold all of it.
func headerEnd(data []byte) int {
	quoted, content := false, false
	for i, c := range data {
		switch {
		case c == '"':
			quoted, content = !quoted, true
		case c == '\n' && !quoted && content:
			return i + 1
		case c != '\n' && c != '\r':
			content = true
		}
	}
	return -1
}

// fill reads more input into carry.
func (b *BatchReader) fill() error {
	if b.eof {
		return nil
	}
	if cap(b.carry)-len(b.carry) < 32<<10 {
		b.carry = slices.Grow(b.carry, max(64<<10, len(b.carry)))
	}
	n, err := b.r.Read(b.carry[len(b.carry):cap(b.carry)])
	b.carry = b.carry[:len(b.carry)+n]
	if err == io.EOF {
		b.eof = true
		return nil
	}
	if err != nil {
		return &Error{File: b.name, Line: b.line, Msg: "read: " + err.Error(), Kind: err}
	}
	return nil
}

// recordEnd returns the index just past the last newline of data that is
// outside a quoted field, or -1. data starts at a record boundary; in CSV
// a quote inside a quoted field is doubled, so quote parity tells whether
// a newline is inside a field.
func recordEnd(data []byte) int {
	end, quoted := -1, false
	for i := 0; i < len(data); {
		k := bytes.IndexAny(data[i:], "\"\n")
		if k < 0 {
			break
		}
		i += k
		if data[i] == '"' {
			quoted = !quoted
		} else if !quoted {
			end = i + 1
		}
		i++
	}
	return end
}

// Next reads the next block of whole records into blk (reusing its
// buffer); io.EOF after the last.
func (b *BatchReader) Next(blk *Block) error {
	for !b.eof && len(b.carry) < b.blockSize {
		if err := b.fill(); err != nil {
			return err
		}
	}
	end := recordEnd(b.carry[:min(len(b.carry), b.blockSize)])
	if end < 0 {
		end = recordEnd(b.carry)
	}
	for end < 0 && !b.eof {
		if len(b.carry) > MaxRecord {
			return &Error{File: b.name, Line: b.line, Msg: fmt.Sprintf("a record longer than %d bytes (an unclosed quote?)", MaxRecord), Kind: ErrSyntax}
		}
		if err := b.fill(); err != nil {
			return err
		}
		end = recordEnd(b.carry)
	}
	if end < 0 {
		end = len(b.carry) // at the end: the last record without a newline
	}
	if end == 0 {
		return io.EOF
	}
	blk.Data = append(blk.Data[:0], b.carry[:end]...)
	blk.Line = b.line
	b.line += bytes.Count(blk.Data, []byte{'\n'})
	b.carry = append(b.carry[:0], b.carry[end:]...)
	return nil
}

// Decode parses and encodes a block's records into rows (reusing their
// memory). A malformed record, a record with another number of fields than
// the header, or a value the encoder refuses is an *Error naming the file,
// line and column.
func (b *BatchReader) Decode(blk *Block, rows *Rows) error {
	rows.X, rows.Records, rows.Lines, rows.Notes = rows.X[:0], rows.Records[:0], rows.Lines[:0], rows.Notes[:0]
	rows.flat = rows.flat[:0]
	cr := csv.NewReader(bytes.NewReader(blk.Data))
	cr.FieldsPerRecord = -1
	nf := len(b.enc.schema.Features)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return b.parseError(err, blk.Line-1)
		}
		l, _ := cr.FieldPos(0)
		line := blk.Line - 1 + l
		if len(rec) != len(b.header) {
			return &Error{File: b.name, Line: line,
				Msg:  fmt.Sprintf("line %d has %s, header has %d", line, plural(len(rec), "field"), len(b.header)),
				Kind: ErrFieldCount}
		}
		row := len(rows.Lines)
		for i := range nf {
			j := b.colOf[i]
			if j < 0 {
				rows.flat = append(rows.flat, math.NaN()) // not required, or NewBatchReader refused
				continue
			}
			v, n := b.enc.Cell(i, rec[j])
			if n.Refusal() {
				return b.refusal(line, i, rec[j], n)
			}
			rows.flat = append(rows.flat, v)
			if n != NoteNone {
				rows.Notes = append(rows.Notes, CellNote{row, i, n})
			}
		}
		rows.Records = append(rows.Records, rec)
		rows.Lines = append(rows.Lines, line)
	}
	for i := range rows.Lines {
		rows.X = append(rows.X, rows.flat[i*nf:(i+1)*nf:(i+1)*nf])
	}
	return nil
}

func (b *BatchReader) refusal(line, i int, cell string, n Note) error {
	col := b.names[b.colOf[i]]
	v := strings.TrimSpace(cell)
	switch {
	case n == NoteWrongType && b.enc.schema.Features[i].Type == Numeric:
		return &Error{File: b.name, Line: line, Column: col, Msg: fmt.Sprintf("value %s is not a number (the feature is numeric)", Quote(v)), Kind: ErrNotNumber}
	case n == NoteNotFinite:
		return &Error{File: b.name, Line: line, Column: col, Msg: fmt.Sprintf("value %s is not a finite number", Quote(v)), Kind: ErrNotFinite}
	}
	return &Error{File: b.name, Line: line, Column: col, Msg: b.enc.Message(i, n, Quote(v)), Kind: n.Err()}
}

func (b *BatchReader) parseError(err error, lineOffset int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: b.name, Line: lineOffset + pe.Line,
			Msg:  fmt.Sprintf("malformed CSV at byte %d of the line: %v", pe.Column, pe.Err),
			Kind: ErrSyntax}
	}
	return &Error{File: b.name, Line: lineOffset, Msg: "read: " + err.Error(), Kind: err}
}
