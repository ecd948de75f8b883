package promote

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// HeadlineTags are the test metrics train tags each version with.
var HeadlineTags = []string{"test_auc", "test_gini", "test_ks", "test_brier", "test_log_loss"}

// ModelSummary is one registered model in a listing.
type ModelSummary struct {
	Name          string            `json:"name"`
	Versions      int               `json:"versions"`
	LatestVersion string            `json:"latest_version"`
	Aliases       map[string]string `json:"aliases"` // alias → version
	Updated       time.Time         `json:"updated"`
	Description   string            `json:"description,omitempty"`
}

// VersionSummary is one version of a registered model.
type VersionSummary struct {
	Version    string             `json:"version"`
	Aliases    []string           `json:"aliases"`
	Stage      string             `json:"stage"`
	Status     string             `json:"status"`
	Metrics    map[string]float64 `json:"metrics"` // headline test metrics from the tags
	RunID      string             `json:"run_id"`
	Source     string             `json:"source"`
	Created    time.Time          `json:"created"`
	PromotedAt string             `json:"promoted_at,omitempty"`
	PromotedBy string             `json:"promoted_by,omitempty"`
	Kind       string             `json:"promotion_kind,omitempty"`
}

// ModelDetail is a registered model with every version, newest first.
type ModelDetail struct {
	ModelSummary
	History  map[string][]string `json:"history,omitempty"` // alias → versions that held it, oldest first
	Versions []VersionSummary    `json:"versions"`
}

func millis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// List returns every registered model, by name. It reads the versions of
// all models in one search rather than one search per model.
func List(ctx context.Context, b tracking.Backend) ([]ModelSummary, error) {
	byName := map[string][]mlflow.ModelVersion{}
	for mv, err := range b.AllModelVersions(ctx, mlflow.SearchModelVersionsRequest{}) {
		if err != nil {
			return nil, fmt.Errorf("list model versions: %w", err)
		}
		byName[mv.Name] = append(byName[mv.Name], mv)
	}
	var out []ModelSummary
	for rm, err := range b.AllRegisteredModels(ctx, mlflow.SearchRegisteredModelsRequest{}) {
		if err != nil {
			return nil, fmt.Errorf("list registered models: %w", err)
		}
		vs := byName[rm.Name]
		sortVersions(vs)
		out = append(out, summary(&rm, vs))
	}
	slices.SortFunc(out, func(a, b ModelSummary) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// sortVersions orders versions newest first.
func sortVersions(vs []mlflow.ModelVersion) {
	num := func(v string) int { n, _ := strconv.Atoi(v); return n }
	slices.SortFunc(vs, func(a, b mlflow.ModelVersion) int { return num(b.Version) - num(a.Version) })
}

func summary(rm *mlflow.RegisteredModel, vs []mlflow.ModelVersion) ModelSummary {
	s := ModelSummary{Name: rm.Name, Versions: len(vs), Aliases: map[string]string{},
		Updated: millis(rm.LastUpdatedTimestamp), Description: rm.Description}
	for _, a := range rm.Aliases {
		s.Aliases[a.Alias] = a.Version
	}
	if len(vs) > 0 {
		s.LatestVersion = vs[0].Version
	}
	return s
}

// versions returns a model's versions, newest first.
func versions(ctx context.Context, b tracking.Backend, name string) ([]mlflow.ModelVersion, error) {
	var vs []mlflow.ModelVersion
	filter := fmt.Sprintf("name='%s'", strings.ReplaceAll(name, "'", "\\'"))
	for mv, err := range b.AllModelVersions(ctx, mlflow.SearchModelVersionsRequest{Filter: filter}) {
		if err != nil {
			return nil, fmt.Errorf("versions of %s: %w", name, err)
		}
		if mv.Name == name {
			vs = append(vs, mv)
		}
	}
	sortVersions(vs)
	return vs, nil
}

// Show returns one registered model with its versions.
func Show(ctx context.Context, b tracking.Backend, name string) (*ModelDetail, error) {
	rm, err := b.GetRegisteredModel(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("get registered model %s: %w", name, err)
	}
	vs, err := versions(ctx, b, name)
	if err != nil {
		return nil, err
	}
	d := &ModelDetail{ModelSummary: summary(rm, vs), History: map[string][]string{}}
	// Searches may leave aliases out; the registered model has them all.
	byVersion := map[string][]string{}
	for _, a := range rm.Aliases {
		byVersion[a.Version] = append(byVersion[a.Version], a.Alias)
		if h := parseHistory(rm, a.Alias); len(h) > 0 {
			d.History[a.Alias] = h
		}
	}
	for _, mv := range vs {
		v := VersionSummary{Version: mv.Version, Aliases: byVersion[mv.Version], Stage: mv.CurrentStage,
			Status: mv.Status, Metrics: map[string]float64{}, RunID: mv.RunID, Source: mv.Source,
			Created: millis(mv.CreationTimestamp)}
		if v.Aliases == nil {
			v.Aliases = []string{}
		}
		slices.Sort(v.Aliases)
		for _, k := range HeadlineTags {
			if s, ok := mv.Tag(k); ok {
				if f, err := strconv.ParseFloat(s, 64); err == nil {
					v.Metrics[k] = f
				}
			}
		}
		v.PromotedAt, _ = mv.Tag(TagPromotedAt)
		v.PromotedBy, _ = mv.Tag(TagPromotedBy)
		v.Kind, _ = mv.Tag(TagKind)
		d.Versions = append(d.Versions, v)
	}
	return d, nil
}

// parseHistory reads the alias's history tag; a missing or empty tag is an
// empty history.
func parseHistory(rm *mlflow.RegisteredModel, alias string) []string {
	v, _ := rm.Tag(HistoryTag(alias))
	var h []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			h = append(h, s)
		}
	}
	return h
}
