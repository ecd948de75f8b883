package data

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Note is what encoding one value found: nothing, a warning (the value is
// scored and the answer says how), or a refusal (the row cannot be scored).
type Note uint8

// Notes. The warnings are scored; the refusals (from NoteWrongType on) are
// not.
const (
	NoteNone Note = iota
	// NoteUnseen: a category (level or code) not seen in training, scored
	// as missing.
	NoteUnseen
	// NoteOutOfRange: a number outside the training range of the
	// reference profile, scored as given.
	NoteOutOfRange
	// NoteMissing: a required feature's value is missing (null, or a
	// spelling of missing), scored as missing.
	NoteMissing
	// NoteWrongType: a value of a type the feature does not take.
	NoteWrongType
	// NoteNotFinite: ±Inf or NaN given as a number.
	NoteNotFinite
	// NoteNotCode: a number for a categorical feature that is not an
	// integer, so no category code.
	NoteNotCode
	// NoteAmbiguous: a number for a categorical feature whose levels are
	// numbers other than their codes, so it could be either.
	NoteAmbiguous
)

// Warning reports whether the value is scored and the answer must say so.
func (n Note) Warning() bool { return n >= NoteUnseen && n <= NoteMissing }

// Refusal reports whether the value cannot be scored.
func (n Note) Refusal() bool { return n >= NoteWrongType }

// Reason is the note's machine-readable name, the "reason" of a warning or
// a refusal in serve's answers and in predict's warnings column.
func (n Note) Reason() string {
	switch n {
	case NoteUnseen:
		return "unseen_category"
	case NoteOutOfRange:
		return "out_of_range"
	case NoteMissing:
		return "missing_value"
	case NoteWrongType:
		return "wrong_type"
	case NoteNotFinite:
		return "not_finite"
	case NoteNotCode:
		return "not_a_code"
	case NoteAmbiguous:
		return "ambiguous_category"
	}
	return ""
}

// Err returns the error kind of a refusal, for errors.Is.
func (n Note) Err() error {
	switch n {
	case NoteNotFinite:
		return ErrNotFinite
	case NoteWrongType, NoteNotCode, NoteAmbiguous:
		return ErrWrongType
	}
	return nil
}

// How a categorical feature reads a number.
const (
	numbersAreCodes  = iota // no level looks like a number: a number is a code
	numbersAgree            // every level is the number of its code (0, 1, 2, …)
	numbersAmbiguous        // levels are numbers other than their codes
)

// Encoder turns input values into the numbers a model takes, with one
// meaning for every input whichever way it came (a JSON request, a CSV
// cell, a tensor); serve's protocols and pipeline predict all use it. It is
// safe for concurrent use and does not allocate on the way to a scored
// value.
//
// The rules, per feature:
//
//   - Missing: JSON null, and the strings (or CSV cells) "", "NA", "NaN"
//     and "null" in any case and with surrounding spaces. A missing value
//     of a required feature is scored as missing with [NoteMissing].
//   - Numeric features take a number; a CSV cell is parsed as one
//     (hexadecimal and digit separators refused), a JSON string is not
//     (only the missing spellings). ±Inf is refused ([NoteNotFinite]). A
//     number outside the reference profile's training range is scored as
//     given with [NoteOutOfRange].
//   - Categorical features take a level as text (surrounding spaces
//     ignored; a number finds a level of the same value, "2.0" finds "2").
//     A JSON number is the category's code, the level's index in the
//     schema, as MLflow's signature and mlflow.pyfunc take it; where no
//     level looks like a number, a number in text is read as that number
//     (a CSV written by pandas from codes). A code out of range, or a
//     level not seen in training, is scored as missing with [NoteUnseen];
//     a fractional or infinite number is refused ([NoteNotCode],
//     [NoteNotFinite]). Where the levels are
//     numbers other than their codes (levels "1", "2", "5"), a JSON number
//     could mean either and is refused ([NoteAmbiguous]): send the level
//     as text.
type Encoder struct {
	schema  *Schema
	idx     *schemaIndex
	lo, hi  []float64 // training range of numeric features; NaN when unknown
	numbers []uint8   // categorical features: how a number is read
}

// NewEncoder returns the encoder of a schema. prof, when not nil, gives the
// training ranges of numeric features (by name; features it lacks, and
// profiles written before ranges were recorded, get no range check).
func NewEncoder(s *Schema, prof *Profile) (*Encoder, error) {
	idx, err := s.lookups()
	if err != nil {
		return nil, fmt.Errorf("encoder: invalid schema: %w", err)
	}
	n := len(s.Features)
	e := &Encoder{schema: s, idx: idx, lo: make([]float64, n), hi: make([]float64, n), numbers: make([]uint8, n)}
	for i, f := range s.Features {
		e.lo[i], e.hi[i] = math.NaN(), math.NaN()
		if f.Type != Categorical {
			if prof != nil {
				if h, ok := prof.Feature(f.Name); ok && h.Type == Numeric && h.Min != nil && h.Max != nil {
					e.lo[i], e.hi[i] = *h.Min, *h.Max
				}
			}
			continue
		}
		e.numbers[i] = numbersAreCodes
		if len(idx.nums[i]) > 0 {
			e.numbers[i] = numbersAgree
			for v, code := range idx.nums[i] {
				if v != float64(code) || len(idx.nums[i]) != len(f.Levels) {
					e.numbers[i] = numbersAmbiguous
					break
				}
			}
		}
	}
	return e, nil
}

// Schema returns the schema the encoder was made for.
func (e *Encoder) Schema() *Schema { return e.schema }

// Index returns the position of the named feature, or -1.
func (e *Encoder) Index(name string) int {
	if i, ok := e.idx.byName[name]; ok {
		return i
	}
	return -1
}

// IndexBytes is [Encoder.Index] for a name in bytes, without allocating.
func (e *Encoder) IndexBytes(name []byte) int {
	if i, ok := e.idx.byName[string(name)]; ok {
		return i
	}
	return -1
}

// Range returns the training range of numeric feature i; ok is false when
// the reference profile gave none.
func (e *Encoder) Range(i int) (lo, hi float64, ok bool) {
	return e.lo[i], e.hi[i], !math.IsNaN(e.lo[i])
}

// Null encodes a missing value of feature i.
func (e *Encoder) Null(i int) (float64, Note) {
	if e.schema.Features[i].Required {
		return math.NaN(), NoteMissing
	}
	return math.NaN(), NoteNone
}

// Number encodes a number (a JSON number, or a tensor's element) for
// feature i.
func (e *Encoder) Number(i int, v float64) (float64, Note) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, NoteNotFinite
	}
	if e.schema.Features[i].Type == Categorical {
		switch e.numbers[i] {
		case numbersAmbiguous:
			return 0, NoteAmbiguous
		}
		return e.code(i, v)
	}
	if v < e.lo[i] || v > e.hi[i] { // false when the range is NaN
		return v, NoteOutOfRange
	}
	return v, NoteNone
}

// code reads v as a category code of feature i.
func (e *Encoder) code(i int, v float64) (float64, Note) {
	if v != math.Trunc(v) {
		return 0, NoteNotCode
	}
	if v < 0 || v >= float64(len(e.schema.Features[i].Levels)) {
		return math.NaN(), NoteUnseen
	}
	return v + 0, NoteNone // + 0 turns -0 into 0
}

// String encodes a JSON string for feature i.
func (e *Encoder) String(i int, s string) (float64, Note) { return text(e, i, s, false) }

// StringBytes is [Encoder.String] for bytes, without allocating.
func (e *Encoder) StringBytes(i int, b []byte) (float64, Note) { return text(e, i, b, false) }

// Cell encodes a CSV cell (text with no type of its own) for feature i.
func (e *Encoder) Cell(i int, s string) (float64, Note) { return text(e, i, s, true) }

// CellBytes is [Encoder.Cell] for bytes, without allocating.
func (e *Encoder) CellBytes(i int, b []byte) (float64, Note) { return text(e, i, b, true) }

func text[T string | []byte](e *Encoder, i int, s T, cell bool) (float64, Note) {
	f := &e.schema.Features[i]
	if f.Type == Categorical {
		if c, ok := e.idx.codes[i][string(s)]; ok {
			return float64(c), NoteNone
		}
	}
	t := trim(s)
	if missing(t) {
		return e.Null(i)
	}
	if f.Type != Categorical {
		if !cell {
			return 0, NoteWrongType
		}
		v, ok := parseNum(t)
		if !ok {
			return 0, NoteWrongType
		}
		return e.Number(i, v)
	}
	if c, ok := e.idx.codes[i][string(t)]; ok {
		return float64(c), NoteNone
	}
	if v, ok := parseNum(t); ok {
		if c, ok := e.idx.nums[i][v]; ok {
			return float64(c), NoteNone
		}
		if e.numbers[i] == numbersAreCodes {
			return e.Number(i, v) // a number in text is what the number is
		}
	}
	return math.NaN(), NoteUnseen
}

func trim[T string | []byte](s T) T {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// missing reports whether trimmed text spells a missing value: empty, NA,
// NaN or null in any case.
func missing[T string | []byte](s T) bool {
	switch len(s) {
	case 0:
		return true
	case 2:
		return lower(s[0]) == 'n' && lower(s[1]) == 'a'
	case 3:
		return lower(s[0]) == 'n' && lower(s[1]) == 'a' && lower(s[2]) == 'n'
	case 4:
		return lower(s[0]) == 'n' && lower(s[1]) == 'u' && lower(s[2]) == 'l' && lower(s[3]) == 'l'
	}
	return false
}

func lower(c byte) byte { return c | 0x20 }

// parseNum is parseNumber for text in either form; it reads the text in
// place (strconv does not keep it).
func parseNum[T string | []byte](s T) (float64, bool) {
	if v, ok := ParseDecimal(s); ok {
		return v, true
	}
	for k := 0; k < len(s); k++ {
		switch s[k] {
		case '_', 'x', 'X':
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(string(s), 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	return v, true
}

// Message says in words what a note means for feature i; got renders the
// value as the input gave it (see [Quote]).
func (e *Encoder) Message(i int, n Note, got string) string {
	f := &e.schema.Features[i]
	switch n {
	case NoteUnseen:
		return fmt.Sprintf("%s is not a category seen in training (%d levels); scored as missing", got, len(f.Levels))
	case NoteOutOfRange:
		return fmt.Sprintf("%s is outside the training range [%s, %s]; scored as given", got, fmtNum(e.lo[i]), fmtNum(e.hi[i]))
	case NoteMissing:
		return "the value is missing; scored as missing"
	case NoteWrongType:
		if f.Type == Categorical {
			return fmt.Sprintf("got %s, want a level, a category code or null", got)
		}
		return fmt.Sprintf("got %s, want a number or null", got)
	case NoteNotFinite:
		return fmt.Sprintf("%s is not a finite number (send null for a missing value)", got)
	case NoteNotCode:
		return fmt.Sprintf("%s is not a category code (an integer index into the %d levels)", got, len(f.Levels))
	case NoteAmbiguous:
		return fmt.Sprintf("%s is ambiguous: the levels are numbers other than their codes; send the level as a string", got)
	}
	return ""
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Quote renders a value for a message: text quoted, cut to 64 bytes, never
// invalid UTF-8, so that a hostile value cannot make an answer large.
func Quote[T string | []byte](s T) string {
	const max = 64
	cut := len(s) > max
	if cut {
		s = s[:max]
	}
	q := strconv.Quote(strings.ToValidUTF8(string(s), "\uFFFD"))
	if cut {
		q = q[:len(q)-1] + `…"`
	}
	return q
}

// Short cuts a name (a field a client sent) to at most 128 bytes of valid
// UTF-8 for an answer or a log line.
func Short[T string | []byte](s T) string {
	const max = 128
	if len(s) <= max && utf8.Valid([]byte(string(s))) {
		return string(s)
	}
	if len(s) > max {
		s = s[:max]
		return strings.ToValidUTF8(string(s), "\uFFFD") + "…"
	}
	return strings.ToValidUTF8(string(s), "\uFFFD")
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// ParseDecimal parses the common short decimal ("-12", "1169", "0.25")
// exactly as strconv.ParseFloat does, faster: at most 15 digits and no
// exponent, so that the digits are an exact integer and one division by an
// exact power of ten rounds correctly (Clinger's fast path, which strconv
// takes too). ok is false for anything else; parse that with strconv.
func ParseDecimal[T string | []byte](s T) (v float64, ok bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		i, neg = 1, true
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 || dot && frac == 0 {
		return 0, false
	}
	v = float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}
