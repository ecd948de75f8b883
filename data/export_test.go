package data

// SetBlockSize makes a reader cut small blocks, to test records across
// block boundaries.
func SetBlockSize(b *BatchReader, n int) { b.blockSize = n }
