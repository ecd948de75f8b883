package data_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

// rangedSchema is testSchema with a reference profile: age trained on
// 18…75, opt without a range, and a categorical whose levels are their
// codes.
func ranged(t testing.TB) *data.Encoder {
	t.Helper()
	s, err := data.ParseSchema([]byte(`{"features":[
		{"name":"age","type":"numeric","required":true},
		{"name":"housing","type":"categorical","levels":["free","own","rent"],"required":true},
		{"name":"n","type":"categorical","levels":["1","2","10"],"required":true},
		{"name":"opt","type":"numeric","required":false},
		{"name":"k","type":"categorical","levels":["0","1","2"],"required":false}]}`))
	if err != nil {
		t.Fatal(err)
	}
	age := data.NewHistogram("age", []float64{18, 40, 75}, 10)
	e, err := data.NewEncoder(s, &data.Profile{Features: []data.Histogram{age}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEncoder is the table of what every input means (the rules of
// data.Encoder): JSON numbers, JSON strings and CSV cells, per feature.
func TestEncoder(t *testing.T) {
	e := ranged(t)
	const (
		num  = "number"
		str  = "string"
		cell = "cell"
		null = "null"
	)
	nan := math.NaN()
	for _, tc := range []struct {
		feature string
		kind    string
		in      string
		want    float64
		note    data.Note
	}{
		{"age", num, "30", 30, data.NoteNone},
		{"age", num, "18", 18, data.NoteNone},
		{"age", num, "75", 75, data.NoteNone},
		{"age", num, "-5", -5, data.NoteOutOfRange},
		{"age", num, "1e12", 1e12, data.NoteOutOfRange},
		{"age", num, "+Inf", 0, data.NoteNotFinite},
		{"age", null, "", nan, data.NoteMissing},
		{"opt", null, "", nan, data.NoteNone},
		{"opt", num, "1e12", 1e12, data.NoteNone}, // no range recorded
		{"age", str, "30", 0, data.NoteWrongType},
		{"age", str, "NaN", nan, data.NoteMissing},
		{"age", str, " na ", nan, data.NoteMissing},
		{"age", str, "NULL", nan, data.NoteMissing},
		{"age", str, "", nan, data.NoteMissing},
		{"age", cell, " 30", 30, data.NoteNone},
		{"age", cell, "1e3", 1000, data.NoteOutOfRange},
		{"age", cell, "0x10", 0, data.NoteWrongType},
		{"age", cell, "1_000", 0, data.NoteWrongType},
		{"age", cell, "old", 0, data.NoteWrongType},
		{"age", cell, "inf", 0, data.NoteNotFinite},
		{"age", cell, "nan", nan, data.NoteMissing},
		{"age", cell, "", nan, data.NoteMissing},
		{"housing", str, "own", 1, data.NoteNone},
		{"housing", str, " own ", 1, data.NoteNone},
		{"housing", cell, "rent", 2, data.NoteNone},
		{"housing", str, "castle", nan, data.NoteUnseen},
		{"housing", str, "Own", nan, data.NoteUnseen},
		{"housing", num, "0", 0, data.NoteNone},
		{"housing", num, "2", 2, data.NoteNone},
		{"housing", num, "2.0", 2, data.NoteNone},
		{"housing", num, "3", nan, data.NoteUnseen},
		{"housing", num, "-1", nan, data.NoteUnseen},
		{"housing", num, "0.5", 0, data.NoteNotCode},
		{"housing", str, "1", 1, data.NoteNone},
		{"housing", cell, "2", 2, data.NoteNone},
		{"housing", cell, "7", nan, data.NoteUnseen},
		{"housing", cell, "0.5", 0, data.NoteNotCode},
		{"housing", str, "inf", 0, data.NoteNotFinite},
		{"housing", cell, "2.0", 2, data.NoteNone},
		{"housing", str, "NA", nan, data.NoteMissing},
		{"housing", null, "", nan, data.NoteMissing},
		{"n", str, "10", 2, data.NoteNone},
		{"n", cell, "2.0", 1, data.NoteNone},
		{"n", cell, "3", nan, data.NoteUnseen},
		{"n", num, "1", 0, data.NoteAmbiguous},
		{"n", num, "0", 0, data.NoteAmbiguous},
		{"k", num, "2", 2, data.NoteNone}, // levels equal to their codes: both readings agree
		{"k", str, "2", 2, data.NoteNone},
		{"k", num, "3", nan, data.NoteUnseen},
		{"k", null, "", nan, data.NoteNone},
	} {
		name := fmt.Sprintf("%s %s %q", tc.feature, tc.kind, tc.in)
		i := e.Index(tc.feature)
		var got float64
		var note data.Note
		switch tc.kind {
		case num:
			var v float64
			fmt.Sscan(tc.in, &v)
			if tc.in == "+Inf" {
				v = math.Inf(1)
			}
			got, note = e.Number(i, v)
		case str:
			got, note = e.String(i, tc.in)
			if g2, n2 := e.StringBytes(i, []byte(tc.in)); n2 != note || !same(g2, got) {
				t.Errorf("%s: StringBytes %v %v, String %v %v", name, g2, n2, got, note)
			}
		case cell:
			got, note = e.Cell(i, tc.in)
			if g2, n2 := e.CellBytes(i, []byte(tc.in)); n2 != note || !same(g2, got) {
				t.Errorf("%s: CellBytes %v %v, Cell %v %v", name, g2, n2, got, note)
			}
		case null:
			got, note = e.Null(i)
		}
		if note != tc.note || (!note.Refusal() && !same(got, tc.want)) {
			t.Errorf("%s: %v %v (%s), want %v %v (%s)", name, got, note, note.Reason(), tc.want, tc.note, tc.note.Reason())
		}
		if note.Warning() == note.Refusal() && note != data.NoteNone || (note != data.NoteNone) != (note.Reason() != "") {
			t.Errorf("%s: note %v is neither one warning nor one refusal", name, note)
		}
		if note != data.NoteNone && e.Message(i, note, tc.in) == "" {
			t.Errorf("%s: no message for %v", name, note)
		}
	}
}

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// The scoring path encodes without allocating (text up to 32 bytes: a
// longer number is parsed from a copy).
func TestEncoderAllocs(t *testing.T) {
	e := ranged(t)
	own, num, long := []byte(" own "), []byte("42.5"), []byte(strings.Repeat("9", 30))
	allocs := testing.AllocsPerRun(100, func() {
		e.StringBytes(1, own)
		e.CellBytes(0, num)
		e.CellBytes(0, long)
		e.Number(0, 3)
		e.IndexBytes([]byte("housing"))
	})
	if allocs > 0 {
		t.Errorf("%v allocations per value", allocs)
	}
}

func TestQuote(t *testing.T) {
	if q := data.Quote(strings.Repeat("x", 1000)); len(q) > 70 || !strings.HasSuffix(q, `…"`) {
		t.Errorf("long value quoted as %q", q)
	}
	if q := data.Quote("\xff"); q != `"\ufffd"` && q != `"�"` {
		t.Errorf("invalid UTF-8 quoted as %q", q)
	}
	if s := data.Short(strings.Repeat("é", 100)); len(s) > 131 {
		t.Errorf("long name kept as %d bytes", len(s))
	}
}

// readAll decodes a CSV through a BatchReader with the given block size.
func readAll(e *data.Encoder, in string, block int) (x [][]float64, lines []int, notes []data.CellNote, recs [][]string, err error) {
	br, err := e.NewBatchReader(strings.NewReader(in), "in.csv")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	data.SetBlockSize(br, block)
	var blk data.Block
	var rows data.Rows
	for {
		if err := br.Next(&blk); err == io.EOF {
			return x, lines, notes, recs, nil
		} else if err != nil {
			return nil, nil, nil, nil, err
		}
		if err := br.Decode(&blk, &rows); err != nil {
			return nil, nil, nil, nil, err
		}
		for _, n := range rows.Notes {
			n.Row += len(x)
			notes = append(notes, n)
		}
		for i := range rows.X {
			x = append(x, slices.Clone(rows.X[i]))
			recs = append(recs, rows.Records[i])
		}
		lines = append(lines, rows.Lines...)
	}
}

// TestBatchReaderBlocks: records spanning block boundaries, quoted
// newlines, CRLF, blank lines, a byte order mark and a last line without a
// newline decode the same at every block size, with the right lines.
func TestBatchReaderBlocks(t *testing.T) {
	e := ranged(t)
	in := "\ufeff\n\"age\",housing,n,note\r\n" +
		"30,own,10,\"two\nlines\"\r\n" +
		"\n" +
		"-5,castle,2,\"a \"\"quoted\"\", b\"\n" +
		"40,,1,x\n" +
		"41,rent,2,last"
	want, wantLines, wantNotes, _, err := readAll(e, in, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 4 || !slices.Equal(wantLines, []int{3, 6, 7, 8}) {
		t.Fatalf("%d rows at lines %v", len(want), wantLines)
	}
	wantN := []data.CellNote{{Row: 1, Feature: 0, Note: data.NoteOutOfRange}, {Row: 1, Feature: 1, Note: data.NoteUnseen}, {Row: 2, Feature: 1, Note: data.NoteMissing}}
	if !slices.Equal(wantNotes, wantN) {
		t.Errorf("notes %v, want %v", wantNotes, wantN)
	}
	for block := 1; block < len(in)+2; block++ {
		x, lines, notes, _, err := readAll(e, in, block)
		if err != nil {
			t.Fatalf("block %d: %v", block, err)
		}
		if len(x) != len(want) || !slices.Equal(lines, wantLines) || !slices.Equal(notes, wantNotes) {
			t.Fatalf("block %d: %d rows at %v notes %v", block, len(x), lines, notes)
		}
		for i := range x {
			if !slices.EqualFunc(x[i], want[i], same) {
				t.Fatalf("block %d row %d: %v, want %v", block, i, x[i], want[i])
			}
		}
	}
}

func TestBatchReaderErrors(t *testing.T) {
	e := ranged(t)
	for _, tc := range []struct {
		name, in string
		line     int
		kind     error
	}{
		{"unclosed quote", "age,housing,n\n1,own,1\n2,\"own,1\n", 3, data.ErrSyntax},
		{"not a number after a block", "age,housing,n\n1,own,1\n1,own,1\nx,own,1\n", 4, data.ErrNotNumber},
		{"ragged", "age,housing,n\n1,own,1\n\n1,own\n", 4, data.ErrFieldCount},
		{"empty", "\n\n", 0, data.ErrEmpty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, block := range []int{1, 8, 1 << 20} {
				_, _, _, _, err := readAll(e, tc.in, block)
				var de *data.Error
				if !errors.As(err, &de) || !errors.Is(err, tc.kind) || de.Line != tc.line {
					t.Errorf("block %d: %v, want a %v error on line %d", block, err, tc.kind, tc.line)
				}
			}
		})
	}
	// A record longer than the limit is refused, not buffered without end.
	huge := "age,housing,n\n\"" + strings.Repeat("x", data.MaxRecord+10)
	if _, _, _, _, err := readAll(e, huge, 1<<20); !errors.Is(err, data.ErrSyntax) {
		t.Errorf("unterminated huge record: %v", err)
	}
}

// FuzzBatchReader: any input decodes to the same rows, lines and notes
// (or fails the same way) whatever the block size, and never panics.
func FuzzBatchReader(f *testing.F) {
	for _, s := range []string{"age,housing,n\n1,own,1\n", "age,housing,n,x\n\"1\",\"o\nwn\",2,\"\"\"\"\r\n", "\xef\xbb\xbfage,housing,n\n,,\n", "age,housing,n\n1,own"} {
		f.Add([]byte(s), uint8(3))
	}
	e := ranged(f)
	f.Fuzz(func(t *testing.T, in []byte, block uint8) {
		x1, l1, n1, r1, err1 := readAll(e, string(in), 1<<20)
		x2, l2, n2, r2, err2 := readAll(e, string(in), int(block)+1)
		if (err1 == nil) != (err2 == nil) {
			// A malformed quote may be found on another line when the cut
			// differs, but both must fail.
			t.Fatalf("whole: %v; blocks of %d: %v", err1, int(block)+1, err2)
		}
		for _, err := range []error{err1, err2} {
			var de *data.Error
			if err != nil && !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *data.Error", err, err)
			}
		}
		if err1 != nil {
			return
		}
		if len(x1) != len(x2) || !slices.Equal(l1, l2) || !slices.Equal(n1, n2) {
			t.Fatalf("whole %d rows %v %v; blocks %d rows %v %v", len(x1), l1, n1, len(x2), l2, n2)
		}
		for i := range x1 {
			if !slices.EqualFunc(x1[i], x2[i], same) || !slices.Equal(r1[i], r2[i]) {
				t.Fatalf("row %d differs", i)
			}
		}
	})
}

// LoadBatchFile reads a gzip-compressed file by its name, and says so when
// a .gz file is not gzip.
func TestOpenGzip(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write(data.DefaultCSV())
	z.Close()
	p := filepath.Join(dir, "german.csv.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s := testkit.German(t).Schema()
	b, err := s.LoadBatchFile(p)
	if err != nil || b.Rows() != 1000 {
		t.Fatalf("%v rows, %v", b, err)
	}
	bad := filepath.Join(dir, "plain.csv.gz")
	os.WriteFile(bad, data.DefaultCSV(), 0o644)
	if _, err := s.LoadBatchFile(bad); err == nil || !strings.Contains(err.Error(), "plain.csv.gz") || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("plain file named .gz: %v", err)
	}
}

// FuzzParseDecimal: the fast path gives what strconv.ParseFloat gives, to
// the bit, whenever it answers.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "12", "1169", "0.25", "-3.5", "999999999999999", "1.", ".5", "1e5", "0.1", "123456.789012345", "00012.50"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := data.ParseDecimal(s)
		if !ok {
			return
		}
		w, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(w) {
			t.Fatalf("ParseDecimal(%q) = %v (%x), strconv %v (%x) %v", s, v, math.Float64bits(v), w, math.Float64bits(w), err)
		}
	})
}
