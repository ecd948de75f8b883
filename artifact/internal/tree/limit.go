package tree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// ErrTooLarge is wrapped when a download goes past its limit.
var ErrTooLarge = errors.New("download is larger than its limit")

// budget is what the downloads under one context may still write.
type budget struct {
	maxBytes int64
	maxFiles int64
	bytes    atomic.Int64 // left
	files    atomic.Int64 // left
}

type budgetKey struct{}

// WithLimit returns a context under which the downloads of every store
// write at most maxBytes and maxFiles files in all (0: no limit of that
// kind). A limit set on ctx already stays: the smaller wins.
func WithLimit(ctx context.Context, maxBytes int64, maxFiles int) context.Context {
	b := &budget{maxBytes: maxBytes, maxFiles: int64(maxFiles)}
	if maxBytes <= 0 {
		b.maxBytes = -1
	}
	if maxFiles <= 0 {
		b.maxFiles = -1
	}
	b.bytes.Store(b.maxBytes)
	b.files.Store(b.maxFiles)
	return context.WithValue(ctx, budgetKey{}, b)
}

// Limit returns r, reading which draws on the byte budget of ctx, after
// taking one file from its file budget; past either, the error wraps
// ErrTooLarge. Without a limit on ctx it returns r. Every store passes what
// it downloads through Limit on its way to WriteFile, which removes the
// partial file on the error.
func Limit(ctx context.Context, r io.Reader) (io.Reader, error) {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	if b == nil {
		return r, nil
	}
	if b.maxFiles >= 0 && b.files.Add(-1) < 0 {
		return nil, fmt.Errorf("more than %d files: %w", b.maxFiles, ErrTooLarge)
	}
	if b.maxBytes < 0 {
		return r, nil
	}
	return &limited{r: r, b: b}, nil
}

type limited struct {
	r io.Reader
	b *budget
}

func (l *limited) Read(p []byte) (int, error) {
	left := l.b.bytes.Load()
	if left < 0 {
		return 0, fmt.Errorf("more than %d bytes: %w", l.b.maxBytes, ErrTooLarge)
	}
	// Read one byte past what is left, so that a download of exactly the
	// limit passes and one byte more fails.
	if int64(len(p)) > left+1 {
		p = p[:left+1]
	}
	n, err := l.r.Read(p)
	if l.b.bytes.Add(-int64(n)) < 0 {
		return 0, fmt.Errorf("more than %d bytes: %w", l.b.maxBytes, ErrTooLarge)
	}
	return n, err
}
