package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
)

// blocks cuts a CSV input into blocks of whole records after its header,
// keeping the line each block starts on, so that blocks can be parsed
// apart and concurrently with every error still naming its line. Load and
// BatchReader read through it.
type blocks struct {
	name      string
	r         *bufio.Reader
	blockSize int
	carry     []byte // bytes read past the last whole record
	line      int    // line of the next block's first record
	eof       bool
}

func newBlocks(r io.Reader, name string) blocks {
	return blocks{name: name, r: bufio.NewReaderSize(r, 64<<10), line: 1, blockSize: BlockSize}
}

// readHeader reads the first record (after any blank lines, which csv
// skips too), and whether a byte order mark came before it, which is
// skipped.
func (b *blocks) readHeader() (rec []string, bom bool, err error) {
	for len(b.carry) < 3 && !b.eof {
		if err := b.fill(); err != nil {
			return nil, false, err
		}
	}
	bom = bytes.HasPrefix(b.carry, []byte("\xef\xbb\xbf"))
	if bom {
		b.carry = append(b.carry[:0], b.carry[3:]...)
	}
	for headerEnd(b.carry) < 0 && !b.eof {
		if len(b.carry) > MaxRecord {
			return nil, bom, &Error{File: b.name, Line: 1, Msg: fmt.Sprintf("the header is longer than %d bytes", MaxRecord), Kind: ErrSyntax}
		}
		if err := b.fill(); err != nil {
			return nil, bom, err
		}
	}
	end := headerEnd(b.carry)
	if end < 0 {
		end = len(b.carry)
	}
	head := b.carry[:end]
	cr := csv.NewReader(bytes.NewReader(head))
	cr.FieldsPerRecord = -1
	rec, err = cr.Read()
	if err == io.EOF {
		return nil, bom, &Error{File: b.name, Msg: "empty file: no header row", Kind: ErrEmpty}
	}
	if err != nil {
		return nil, bom, b.parseError(err, 0)
	}
	b.line += bytes.Count(head, []byte{'\n'})
	b.carry = append(b.carry[:0], b.carry[end:]...)
	return rec, bom, nil
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
func (b *blocks) fill() error {
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

// next reads the next block of whole records into blk (reusing its
// buffer); io.EOF after the last.
func (b *blocks) next(blk *Block) error {
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

// records calls fn with each record of blk and its line in the file. A
// malformed record, or one with other than width fields, is an *Error
// naming its line; so is what fn returns. With reuse, a record is valid
// only until fn returns.
func (b *blocks) records(blk *Block, width int, reuse bool, fn func(rec []string, line int) error) error {
	cr := csv.NewReader(bytes.NewReader(blk.Data))
	cr.FieldsPerRecord = -1 // checked here, to word the error
	cr.ReuseRecord = reuse
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return b.parseError(err, blk.Line-1)
		}
		l, _ := cr.FieldPos(0)
		line := blk.Line - 1 + l
		if len(rec) != width {
			return &Error{File: b.name, Line: line,
				Msg:  fmt.Sprintf("line %d has %s, header has %d", line, plural(len(rec), "field"), width),
				Kind: ErrFieldCount}
		}
		if err := fn(rec, line); err != nil {
			return err
		}
	}
}

func (b *blocks) parseError(err error, lineOffset int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: b.name, Line: lineOffset + pe.Line,
			Msg:  fmt.Sprintf("malformed CSV at byte %d of the line: %v", pe.Column, pe.Err),
			Kind: ErrSyntax}
	}
	return &Error{File: b.name, Line: lineOffset, Msg: "read: " + err.Error(), Kind: err}
}
