package filestore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/creditrisk/engine/internal/tempfile"
	"github.com/creditrisk/engine/mlflow"
)

// datasetID and inputID are the folder names MLflow gives a dataset (in
// the experiment) and its link to a run: md5 of the concatenated strings.
func datasetID(name, digest string) string {
	h := md5.Sum([]byte(name + digest))
	return hex.EncodeToString(h[:])
}

func inputID(datasetID, runID string) string {
	h := md5.Sum([]byte(datasetID + runID))
	return hex.EncodeToString(h[:])
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LogInputs records the datasets a run used: each (name, digest) once in
// the experiment's datasets/, each link once in the run's inputs/.
func (s *Store) LogInputs(ctx context.Context, runID string, inputs []mlflow.DatasetInput) error {
	dir, m, err := s.activeRun(runID)
	if err != nil {
		return fmt.Errorf("log inputs: %w", err)
	}
	expDir := filepath.Dir(dir)
	for _, in := range inputs {
		d := in.Dataset
		if d.Name == "" || d.Digest == "" || d.SourceType == "" || d.Source == "" {
			return fmt.Errorf("log inputs to run %s: dataset %q needs name, digest, source_type and source: %w", runID, d.Name, mlflow.ErrInvalidParameter)
		}
		did := datasetID(d.Name, d.Digest)
		meta := yamlMap{"digest": d.Digest, "name": d.Name, "profile": nullable(d.Profile),
			"schema": nullable(d.Schema), "source": d.Source, "source_type": d.SourceType}
		err := s.createFile(filepath.Join(expDir, datasetsDir, did, metaFile), meta.marshal())
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("log inputs to run %s: dataset %s: %w", runID, d.Name, err)
		}
		tags := map[string]string{}
		for _, t := range in.Tags {
			tags[t.Key] = t.Value
		}
		// destination_id repeats the dataset id: MLflow's file store
		// (2.9 to 3.x) writes it so and never reads it.
		link := yamlMap{"source_type": "DATASET", "source_id": did, "destination_type": "RUN",
			"destination_id": did, "tags": tags}
		if err := s.placeDir(dir, filepath.Join(dir, inputsDir, inputID(did, m.RunID)), link.marshal()); err != nil {
			return fmt.Errorf("log inputs to run %s: dataset %s: %w", runID, d.Name, err)
		}
	}
	return nil
}

// placeDir makes the folder final holding only a meta.yaml, unless it
// exists. MLflow reads every folder under a run's inputs/, so the folder is
// completed in a staging folder below stage (which MLflow does not read)
// and renamed into place: readers never see it without its meta.yaml.
func (s *Store) placeDir(stage, final string, meta []byte) error {
	if _, err := os.Stat(filepath.Join(final, metaFile)); err == nil {
		return nil
	}
	tmp, err := tempfile.Mkdir(stage, tmpPrefix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := s.writeFile(filepath.Join(tmp, metaFile), meta); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o777); err != nil {
		return err
	}
	err = os.Rename(tmp, final)
	if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTEMPTY) {
		return nil // another writer linked it first
	}
	return err
}

type datasetMeta struct {
	Digest     string    `yaml:"digest"`
	Name       string    `yaml:"name"`
	Profile    optString `yaml:"profile"`
	Schema     optString `yaml:"schema"`
	Source     string    `yaml:"source"`
	SourceType string    `yaml:"source_type"`
}

type inputMeta struct {
	SourceType string            `yaml:"source_type"`
	SourceID   string            `yaml:"source_id"`
	Tags       map[string]string `yaml:"tags"`
}

func readInputs(runDir string) ([]mlflow.DatasetInput, error) {
	ents, err := os.ReadDir(filepath.Join(runDir, inputsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []mlflow.DatasetInput
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		var in inputMeta
		if err := readYAML(filepath.Join(runDir, inputsDir, e.Name(), metaFile), &in); err != nil {
			return nil, err
		}
		if in.SourceType != "DATASET" {
			continue
		}
		var d datasetMeta
		err := readYAML(filepath.Join(filepath.Dir(runDir), datasetsDir, in.SourceID, metaFile), &d)
		if errors.Is(err, fs.ErrNotExist) {
			continue // MLflow skips a link to a missing dataset too
		} else if err != nil {
			return nil, err
		}
		out = append(out, mlflow.DatasetInput{Tags: sortedTags(in.Tags), Dataset: mlflow.Dataset{
			Name: d.Name, Digest: d.Digest, SourceType: d.SourceType, Source: d.Source,
			Schema: string(d.Schema), Profile: string(d.Profile)}})
	}
	return out, nil
}
