//go:build !amd64 || purego

package gbdt

func addRowMajor(hist []histEntry, off []int, data []uint8, k, o int, rows []int32, gh []gradPair) {
	addRowMajorGeneric(hist, off, data, k, o, rows, gh)
}

func subtractHist(parent, child []histEntry) { subtractHistGeneric(parent, child) }
