//go:build !amd64 || purego

package gbdt

func addRowMajor(hist []histEntry, off []int, data []uint8, k, o int, rows []int32, gh []gradPair) {
	addRowMajorGeneric(hist, off, data, k, o, rows, gh)
}

func subtractHist(parent, child []histEntry) { subtractHistGeneric(parent, child) }

func addAll8x4(hs *[4]*[256]histEntry, c *[4][]uint8, gh []gradPair) { addAll8x4Generic(hs, c, gh) }

func addAll8x2(h0, h1 *[256]histEntry, c0, c1 []uint8, gh []gradPair) {
	addAll8x2Generic(h0, h1, c0, c1, gh)
}

func addGathered4(hs *[4]*[256]histEntry, o *[4]uint8, rows []gatheredRow, gh []gradPair) {
	addGathered4Generic(hs, o, rows, gh)
}

func addGathered2(h0, h1 *[256]histEntry, o0, o1 uint8, rows []gatheredRow, gh []gradPair) {
	addGathered2Generic(h0, h1, o0, o1, rows, gh)
}
