package serve

// What /predict and /explain add for scorecards and adverse-action
// notices lives here, apart from the request path: the score in points
// (model.Scorer) and the reasons with their statements (model.Explainer,
// built per snapshot from Options.Reasons and the reference profile).

// score returns a scorecard's score of the row, nil for other families.
func (s *snapshot) score(row []float64) *int {
	if s.scorer == nil {
		return nil
	}
	_, score, err := s.scorer.Points(row)
	if err != nil {
		return nil // the row was scored already; its length is right
	}
	return &score
}
