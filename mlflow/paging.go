package mlflow

import "iter"

// Paginate yields the items of a paged listing, page after page, from the
// page token first on: page returns one page's items and the next token.
// It stops at an empty next token or one equal to the token just sent (a
// server that ignores paging, as 2.9 does for metric histories, answers
// everything at once with no token), and after the first error, which it
// yields with T's zero value.
//
// Every paged call of the protocol — searches, artifact listings, metric
// histories — goes through it, in this client and in other backends that
// answer the same requests.
func Paginate[T any](first string, page func(token string) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		token := first
		for {
			items, next, err := page(token)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" || next == token {
				return
			}
			token = next
		}
	}
}

// collect gathers every item of seq, or the first error.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var all []T
	for it, err := range seq {
		if err != nil {
			return nil, err
		}
		all = append(all, it)
	}
	return all, nil
}
