package filestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/creditrisk/engine/mlflow"
)

// tagLoggedModels is the run tag log_model appends the model to.
const tagLoggedModels = "mlflow.log-model.history"

// LogModel appends m (the JSON of a logged model: run_id, artifact_path,
// utc_time_created, model_uuid, flavors) to the run's
// mlflow.log-model.history tag, as MLflow's record_logged_model does.
func (s *Store) LogModel(ctx context.Context, runID string, m json.RawMessage) error {
	if !json.Valid(m) {
		return fmt.Errorf("log model to run %s: not valid JSON: %w", runID, mlflow.ErrInvalidParameter)
	}
	return s.locked(ctx, func() error {
		dir, _, err := s.activeRun(runID)
		if err != nil {
			return fmt.Errorf("log model: %w", err)
		}
		path := join(filepath.Join(dir, tagsDir), tagLoggedModels)
		var list []json.RawMessage
		if b, err := os.ReadFile(path); err == nil {
			if err := json.Unmarshal(b, &list); err != nil {
				return fmt.Errorf("log model to run %s: tag %s: %w", runID, tagLoggedModels, err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("log model to run %s: %w", runID, err)
		}
		list = append(list, m)
		b, err := json.Marshal(list)
		if err != nil {
			return fmt.Errorf("log model to run %s: %w", runID, err)
		}
		if err := s.writeFile(path, b); err != nil {
			return fmt.Errorf("log model to run %s: %w", runID, err)
		}
		return nil
	})
}
