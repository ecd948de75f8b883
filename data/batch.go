package data

import (
	"bufio"
	"compress/gzip"
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
	header []string // the header record as read (a byte order mark kept)
	names  []string // column names: trimmed, without the byte order mark
	colOf  []int    // feature -> column, -1 when absent
	extra  []int    // columns that are not features
	blocks
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
	b := &BatchReader{enc: e, blocks: newBlocks(r, name)}
	rec, bom, err := b.readHeader()
	if err != nil {
		return nil, err
	}
	if b.names, err = columnNames(name, rec); err != nil {
		return nil, err
	}
	b.header = rec
	if bom {
		b.header = slices.Clone(rec)
		b.header[0] = "\ufeff" + rec[0]
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

// Next reads the next block of whole records into blk (reusing its
// buffer); io.EOF after the last.
func (b *BatchReader) Next(blk *Block) error { return b.blocks.next(blk) }

// Decode parses and encodes a block's records into rows (reusing their
// memory). A malformed record, a record with another number of fields than
// the header, or a value the encoder refuses is an *Error naming the file,
// line and column.
func (b *BatchReader) Decode(blk *Block, rows *Rows) error {
	rows.X, rows.Records, rows.Lines, rows.Notes = rows.X[:0], rows.Records[:0], rows.Lines[:0], rows.Notes[:0]
	rows.flat = rows.flat[:0]
	nf := len(b.enc.schema.Features)
	err := b.records(blk, len(b.header), false, func(rec []string, line int) error {
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
		return nil
	})
	if err != nil {
		return err
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
