package serve

// A JSON scanner for request bodies: it reads values in place, without
// building maps or interface values, so that a request's work is bounded
// by what the decoders keep (rows and a capped list of problems), not by
// what the client sent. It accepts exactly RFC 8259 JSON (as
// encoding/json does), nested at most maxDepth deep.

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

const maxDepth = 256

// scanner reads one JSON document. Methods that read a value return false
// after recording the first syntax error in err; every later call returns
// false too.
type scanner struct {
	b   []byte
	pos int
	err string // the first syntax error, with its offset

	key, val []byte // unescaped strings that had escapes (reused)
}

func (s *scanner) reset(b []byte) {
	s.b, s.pos, s.err = b, 0, ""
}

// fail records a syntax error at the current offset.
func (s *scanner) fail(format string, args ...any) bool {
	if s.err == "" {
		s.err = fmt.Sprintf(format, args...) + " at offset " + strconv.Itoa(s.pos)
	}
	s.pos = len(s.b)
	return false
}

func (s *scanner) failed() bool { return s.err != "" }

// peek skips white space and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	for s.pos < len(s.b) {
		switch c := s.b[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// describe names what is at the current offset, for an error.
func (s *scanner) describe() string {
	c := s.peek()
	if s.pos >= len(s.b) {
		return "the end of the input"
	}
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// consume skips white space and the byte c, or fails.
func (s *scanner) consume(c byte, what string) bool {
	if s.peek() != c {
		return s.fail("want %s, found %s", what, s.describe())
	}
	s.pos++
	return true
}

// more is the loop condition of an array or object after its opening
// bracket: it consumes a comma or the closing bracket, and reports
// whether another element follows. first is true on the first call.
func (s *scanner) more(close byte, first bool) bool {
	c := s.peek()
	if c == close {
		s.pos++
		return false
	}
	if !first {
		if c != ',' {
			return s.fail("want ',' or '%c', found %s", close, s.describe())
		}
		s.pos++
		if s.peek() == close {
			return s.fail("want a value after ',', found '%c'", close)
		}
	}
	return !s.failed()
}

// end checks nothing but white space follows the document.
func (s *scanner) end() bool {
	if s.failed() {
		return false
	}
	if s.peek(); s.pos < len(s.b) {
		return s.fail("data after the first JSON value")
	}
	return true
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// str reads a string and returns its content, unescaped into *buf when it
// has escapes (the result is then valid until the next call with the same
// buf), else a slice of the input. Invalid UTF-8 is kept as it is; the
// encoder quotes it safely.
func (s *scanner) str(buf *[]byte) ([]byte, bool) {
	if !s.consume('"', "a string") {
		return nil, false
	}
	start := s.pos
	i := start
	// Eight bytes at a time until one may be a quote, a backslash or a
	// control character (the first flagged byte is exact; later ones may
	// be false alarms, which the byte loop sorts out).
	for ; i+8 <= len(s.b); i += 8 {
		x := binary.LittleEndian.Uint64(s.b[i:])
		q, bs := x^(lsb*'"'), x^(lsb*'\\')
		if t := ((q-lsb)&^q | (bs-lsb)&^bs | (x-lsb*0x20)&^x) & msb; t != 0 {
			i += bits.TrailingZeros64(t) / 8
			break
		}
	}
	for ; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.pos = i + 1
			return s.b[start:i], true
		case c == '\\':
			s.pos = i
			return s.unescape(start, buf)
		case c < 0x20:
			s.pos = i
			return nil, s.fail("control character 0x%02x in a string", c)
		}
	}
	s.pos = len(s.b)
	return nil, s.fail("unterminated string")
}

func (s *scanner) unescape(start int, buf *[]byte) ([]byte, bool) {
	out := append((*buf)[:0], s.b[start:s.pos]...)
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			s.pos++
			*buf = out
			return out, true
		case c < 0x20:
			return nil, s.fail("control character 0x%02x in a string", c)
		case c != '\\':
			out = append(out, c)
			s.pos++
			continue
		}
		if s.pos+1 >= len(s.b) {
			break
		}
		e := s.b[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, false
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(utf8.RuneError)
				if s.pos+1 < len(s.b) && s.b[s.pos] == '\\' && s.b[s.pos+1] == 'u' {
					save := s.pos
					s.pos += 2
					lo, ok := s.hex4()
					if !ok {
						return nil, false
					}
					if r2 = utf16.DecodeRune(r, lo); r2 == utf8.RuneError {
						s.pos = save // not a pair: the second escape stands alone
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			s.pos -= 1
			return nil, s.fail("invalid escape '\\%c' in a string", e)
		}
	}
	return nil, s.fail("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.b) {
		return 0, s.fail("short \\u escape")
	}
	var r rune
	for _, c := range s.b[s.pos : s.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, s.fail("invalid \\u escape")
		}
		r = r<<4 | rune(c)
	}
	s.pos += 4
	return r, true
}

// number reads a number (JSON's grammar) and returns its text.
func (s *scanner) number() ([]byte, bool) {
	s.peek()
	b, i := s.b, s.pos
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return nil, s.fail("want a digit, found %s", s.describe())
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.pos = i
			return nil, s.fail("want a digit after the decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.pos = i
			return nil, s.fail("want a digit in the exponent")
		}
	}
	s.pos = i
	return b[start:i], true
}

// literal reads true, false or null.
func (s *scanner) literal(word string) bool {
	if len(s.b)-s.pos >= len(word) && string(s.b[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return true
	}
	return s.fail("invalid character %s looking for a value", s.describe())
}

// Kinds of JSON values, as peeked.
const (
	kindNone = iota
	kindObject
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

var kindNames = [...]string{"nothing", "object", "array", "string", "number", "boolean", "null"}

// kind peeks at the next value's kind (kindNone at the end or on a byte
// that starts no value).
func (s *scanner) kind() int {
	switch c := s.peek(); {
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == '"':
		return kindString
	case c == '-' || c >= '0' && c <= '9':
		return kindNumber
	case c == 't' || c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	}
	return kindNone
}

// skip reads and checks any value without keeping it.
func (s *scanner) skip() bool { return s.skipDepth(0) }

func (s *scanner) skipDepth(depth int) bool {
	if depth > maxDepth {
		return s.fail("nested deeper than %d levels", maxDepth)
	}
	switch s.kind() {
	case kindObject:
		s.pos++
		for first := true; s.more('}', first); first = false {
			if _, ok := s.str(&s.key); !ok || !s.consume(':', "':'") || !s.skipDepth(depth+1) {
				return false
			}
		}
	case kindArray:
		s.pos++
		for first := true; s.more(']', first); first = false {
			if !s.skipDepth(depth + 1) {
				return false
			}
		}
	case kindString:
		s.str(&s.val)
	case kindNumber:
		s.number()
	case kindBool:
		if s.b[s.pos] == 't' {
			return s.literal("true")
		}
		return s.literal("false")
	case kindNull:
		return s.literal("null")
	default:
		return s.fail("invalid character %s looking for a value", s.describe())
	}
	return !s.failed()
}

// span skips a value and returns where it starts, to decode it later
// (a dataframe_split's data before its columns).
func (s *scanner) span() (int, bool) {
	s.peek()
	start := s.pos
	return start, s.skip()
}
