package evaluate

import (
	"errors"
	"fmt"
)

// Errors for degenerate input. The functions wrap them in an *InputError
// (or with fmt.Errorf) so callers can test them with errors.Is.
var (
	ErrEmpty          = errors.New("no rows")
	ErrLengthMismatch = errors.New("labels and scores differ in length")
	ErrLabel          = errors.New("label is not 0 or 1")
	ErrScore          = errors.New("score is not a finite number")
	ErrProbability    = errors.New("score is not a probability in [0, 1]")
	ErrSingleClass    = errors.New("labels hold a single class")
	ErrCutoff         = errors.New("cut-off is not in [0, 1]")
	ErrTooFew         = errors.New("too few rows of a class")
)

// InputError names the slice and row that made the input unusable.
type InputError struct {
	Field string  // "labels", "scores", "scores_a", "expected", ...
	Index int     // row, or -1 when the error is about the whole slice
	Value float64 // the offending value when Index >= 0
	Err   error   // one of the Err* sentinels
}

func (e *InputError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("%s[%d] = %v: %v", e.Field, e.Index, e.Value, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }
