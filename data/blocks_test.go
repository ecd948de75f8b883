package data_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
)

// bigCSV is a file of many blocks with quoted fields, some holding
// newlines and quotes, so that records cross where blocks could be cut.
func bigCSV(rows int) string {
	r := rand.New(rand.NewPCG(8, 9))
	var b strings.Builder
	b.WriteString("n,c,y\n")
	for i := range rows {
		fmt.Fprintf(&b, "%d.%d,", r.IntN(1000), r.IntN(100))
		switch i % 7 {
		case 0:
			fmt.Fprintf(&b, "\"multi\nline %d\"", r.IntN(3))
		case 1:
			b.WriteString(`"say ""hi"""`)
		default:
			fmt.Fprintf(&b, "lvl%d", r.IntN(5))
		}
		fmt.Fprintf(&b, ",%d\n", r.IntN(2))
	}
	return b.String()
}

// TestLoadManyBlocks: a file parsed block by block on several cores reads
// as one reader reads it, every row on its line.
func TestLoadManyBlocks(t *testing.T) {
	in := bigCSV(80_000)
	if len(in) < 4*data.BlockSize {
		t.Fatalf("the file is %d bytes, fewer than four blocks", len(in))
	}
	tab, err := data.Load(strings.NewReader(in), data.Options{Label: "y", Positive: "1"})
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(in))
	if _, err := cr.Read(); err != nil {
		t.Fatal(err)
	}
	n, c := tab.Columns[0], tab.Columns[1]
	for i := 0; ; i++ {
		rec, err := cr.Read()
		if err == io.EOF {
			if i != tab.Rows() {
				t.Fatalf("%d rows, want %d", tab.Rows(), i)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		line, _ := cr.FieldPos(0)
		v, _ := strconv.ParseFloat(rec[0], 64)
		if tab.Lines[i] != line || n.Values[i] != v || c.Levels[int(c.Values[i])] != rec[1] || tab.Label[i] != map[string]float64{"0": 0, "1": 1}[rec[2]] {
			t.Fatalf("row %d: line %d, %v, %q, %v; want line %d, %v", i, tab.Lines[i], n.Values[i], c.Levels[int(c.Values[i])], tab.Label[i], line, rec)
		}
	}
}

// TestLoadErrorInLaterBlock: errors in later blocks name their line, and
// the first in the file wins.
func TestLoadErrorInLaterBlock(t *testing.T) {
	in := bigCSV(80_000)
	lines := strings.SplitAfter(in, "\n")
	lineOf := func(i int) int { return i + 1 } // lines[i] is line i+1
	find := func(from int) int {               // the first line at or after from that is a whole record
		for i := from; ; i++ {
			if strings.HasPrefix(lines[i], "1") && strings.Count(lines[i], ",") == 2 && !strings.Contains(lines[i], `"`) {
				return i
			}
		}
	}
	a, b := find(len(lines)/2), find(len(lines)*3/4)
	tests := []struct {
		name string
		edit func(l []string)
		line int
		kind error
	}{
		{"field count", func(l []string) { l[a] = "1,x\n" }, lineOf(a), data.ErrFieldCount},
		{"bare quote", func(l []string) { l[a] = "1,a\"b,0\n" }, lineOf(a), data.ErrSyntax},
		{"first of two", func(l []string) { l[b] = "1,x\n"; l[a] = "1,x,0,9\n" }, lineOf(a), data.ErrFieldCount},
		{"not a number", func(l []string) { l[a] = "one,x,0\n" }, lineOf(a), data.ErrNotNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := append([]string(nil), lines...)
			tt.edit(l)
			var types map[string]data.Kind
			if errors.Is(tt.kind, data.ErrNotNumber) {
				types = map[string]data.Kind{"n": data.Numeric}
			}
			_, err := data.Load(bytes.NewReader([]byte(strings.Join(l, ""))), data.Options{Name: "big.csv", Label: "y", Positive: "1", Types: types})
			var de *data.Error
			if !errors.As(err, &de) || de.Line != tt.line || !errors.Is(err, tt.kind) {
				t.Fatalf("got %v, want an error of kind %v on line %d", err, tt.kind, tt.line)
			}
		})
	}
}

// TestLoadUnclosedQuote: a quote left open does not make Load read the
// rest of a large file into one record: it stops past MaxRecord bytes,
// naming the line the record starts on.
func TestLoadUnclosedQuote(t *testing.T) {
	in := "n,y\n1,0\n\"2" + strings.Repeat("9,1\n", data.MaxRecord/4+1<<18)
	_, err := data.Load(strings.NewReader(in), data.Options{Name: "open.csv", Label: "y", Positive: "1"})
	var de *data.Error
	if !errors.As(err, &de) || !errors.Is(err, data.ErrSyntax) || de.Line != 3 || !strings.Contains(de.Msg, "longer than") {
		t.Fatalf("got %v, want a syntax error on line 3 about a record longer than %d bytes", err, data.MaxRecord)
	}
}
