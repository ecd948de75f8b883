package serve

import (
	"encoding/json"
	"sync/atomic"
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
	enc      *data.Encoder // with the reference profile's ranges when there is one
	infoJSON []byte        // info() as JSON, for answers
	v2Head   []byte        // {"model_name":…,"model_version":…, of an infer answer
	columns  atomic.Pointer[frameColumns]
	flavor   string
	window   *window // nil when drift is off
	loadedAt time.Time
	dir      string // model directory loaded
	// integrity is what the model's integrity rests on (IntegritySigned…).
	integrity string
	tmp       string // temporary directory to remove when replaced ("" for none)

	explainer *model.Explainer // /explain's reasons and statements (reasons.go)
	// scorer is the model's points scorecard, nil for other families: found
	// once here, not per scored row.
	scorer model.Scorer
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

// newSnapshot wraps a loaded model directory. Its encoder checks ranges
// against the directory's reference profile prof; without one (nil: the
// reload logs why) values are not range-checked.
func newSnapshot(v Version, d *model.Dir, prof *data.Profile) *snapshot {
	s := &snapshot{ver: v, model: d.Model, schema: d.Model.Schema(), flavor: d.Flavor, dir: d.Path, loadedAt: time.Now()}
	s.scorer, _ = d.Model.(model.Scorer)
	enc, err := data.NewEncoder(s.schema, prof)
	if err != nil { // an invalid schema: model.Open refuses those first
		enc, _ = data.NewEncoder(&data.Schema{}, nil)
	}
	s.enc = enc
	info := s.info()
	s.infoJSON, _ = json.Marshal(info)
	head, _ := json.Marshal(struct {
		Name    string `json:"model_name"`
		Version string `json:"model_version"`
	}{info.Name, info.Version})
	s.v2Head = append(head[:len(head)-1], ',')
	return s
}
