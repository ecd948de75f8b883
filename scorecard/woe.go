package scorecard

import "math"

// Evidence returns the weight of evidence and the information value of
// bins given their non-event (good) and event (bad) counts, and the total
// IV. With N and E the totals over all the bins given,
//
//	WoE_i = ln((nonEvents_i/N) / (events_i/E))
//	IV_i  = (nonEvents_i/N − events_i/E) · WoE_i
//
// optbinning's convention: a bin riskier than average has a negative WoE,
// and every IV_i is ≥ 0. A bin lacking either class has no finite WoE; like
// optbinning it gets WoE 0 and IV 0. With no events or no non-events at
// all, every WoE and IV is 0.
func Evidence(nonEvents, events []int) (woe, iv []float64, total float64) {
	woe = make([]float64, len(events))
	iv = make([]float64, len(events))
	var tn, te int
	for i := range events {
		tn += nonEvents[i]
		te += events[i]
	}
	if tn == 0 || te == 0 {
		return woe, iv, 0
	}
	for i := range events {
		n, e := nonEvents[i], events[i]
		if n <= 0 || e <= 0 {
			continue
		}
		pn, pe := float64(n)/float64(tn), float64(e)/float64(te)
		woe[i] = math.Log(pn / pe)
		iv[i] = (pn - pe) * woe[i]
		total += iv[i]
	}
	return woe, iv, total
}

// binIV is one bin's IV against the totals tn, te (0 when it lacks a class).
func binIV(n, e, tn, te int) float64 {
	if n <= 0 || e <= 0 || tn <= 0 || te <= 0 {
		return 0
	}
	pn, pe := float64(n)/float64(tn), float64(e)/float64(te)
	return (pn - pe) * math.Log(pn/pe)
}
