package serve

import (
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model"
)

// snapshot is one loaded model version. It is never modified after the
// swap, so requests read it without locks.
type snapshot struct {
	ver      Version
	model    model.Model
	schema   *data.Schema
	flavor   string
	index    map[string]int // feature name -> position
	window   *window        // nil when drift is off
	loadedAt time.Time
	dir      string // model directory loaded
	// integrity is what the model's integrity rests on (IntegritySigned…).
	integrity string
	tmp       string // temporary directory to remove when replaced ("" for none)

	explainer *model.Explainer // /explain's reasons and statements (reasons.go)
}

// ModelInfo names the model that produced an answer.
type ModelInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	RunID   string `json:"run_id,omitempty"`
}

func (s *snapshot) info() ModelInfo {
	name := s.ver.Name
	if name == "" {
		name = "local"
	}
	return ModelInfo{Name: name, Version: s.ver.Version, RunID: s.ver.RunID}
}

func newSnapshot(v Version, d *model.Dir) *snapshot {
	s := &snapshot{ver: v, model: d.Model, schema: d.Model.Schema(), flavor: d.Flavor, dir: d.Path,
		index: map[string]int{}, loadedAt: time.Now()}
	for i, f := range s.schema.Features {
		s.index[f.Name] = i
	}
	return s
}
