package mlflow

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// regSuffix makes registry names unique per test run.
func regSuffix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// regServers gives a client per real MLflow server of the stack.
func regServers(t *testing.T) map[string]*Client {
	t.Helper()
	out := map[string]*Client{}
	for _, s := range testkit.Servers(t) {
		c, err := NewClient(s.URI, WithRetries(2, 100*time.Millisecond, 50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		out[s.Name] = c
	}
	return out
}

// regRun creates an experiment and a run to register versions from.
func regRun(t *testing.T, c *Client, artifactLocation string) *Run {
	t.Helper()
	ctx := t.Context()
	id, err := c.CreateExperiment(ctx, CreateExperimentRequest{Name: "registry-test-" + regSuffix(t), ArtifactLocation: artifactLocation})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: id, RunName: "registry-test"})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// regModel creates a registered model that is deleted after the test.
func regModel(t *testing.T, c *Client, name string) {
	t.Helper()
	if _, err := c.CreateRegisteredModel(t.Context(), CreateRegisteredModelRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteRegisteredModel(t.Context(), name) })
}

func TestRegisteredModels(t *testing.T) {
	for server, c := range regServers(t) {
		t.Run(server, func(t *testing.T) {
			ctx := t.Context()
			prefix := "regtest-" + regSuffix(t)
			name := prefix + "-a"

			if _, err := c.GetRegisteredModel(ctx, name); !errors.Is(err, ErrNotFound) {
				t.Fatalf("get before create: %v, want ErrNotFound", err)
			}
			m, err := c.CreateRegisteredModel(ctx, CreateRegisteredModelRequest{
				Name: name, Description: "credit model", Tags: []Tag{{"team", "risk"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.DeleteRegisteredModel(t.Context(), name) })
			if m.Name != name || m.CreationTimestamp == 0 {
				t.Errorf("created %+v", m)
			}
			_, err = c.CreateRegisteredModel(ctx, CreateRegisteredModelRequest{Name: name})
			if !errors.Is(err, ErrAlreadyExists) || !strings.Contains(err.Error(), name) {
				t.Errorf("second create: %v, want ErrAlreadyExists naming the model", err)
			}
			if err := c.SetRegisteredModelTag(ctx, name, "owner", "ml-team"); err != nil {
				t.Fatal(err)
			}
			got, err := c.GetRegisteredModel(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := got.Tag("owner"); v != "ml-team" {
				t.Errorf("tag owner = %q", v)
			}
			if v, _ := got.Tag("team"); v != "risk" || got.Description != "credit model" {
				t.Errorf("got %+v", got)
			}

			// Paging through a search of three models one at a time.
			regModel(t, c, prefix+"-b")
			regModel(t, c, prefix+"-c")
			req := SearchRegisteredModelsRequest{Filter: fmt.Sprintf("name LIKE '%s-%%'", prefix), MaxResults: 1, OrderBy: []string{"name ASC"}}
			page, err := c.SearchRegisteredModels(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.RegisteredModels) != 1 || page.RegisteredModels[0].Name != name || page.NextPageToken == "" {
				t.Fatalf("first page: %+v", page)
			}
			var names []string
			for m, err := range c.AllRegisteredModels(ctx, req) {
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, m.Name)
			}
			if want := []string{prefix + "-a", prefix + "-b", prefix + "-c"}; !slices.Equal(names, want) {
				t.Errorf("all pages: %v, want %v", names, want)
			}

			if err := c.DeleteRegisteredModel(ctx, prefix+"-c"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetRegisteredModel(ctx, prefix+"-c"); !errors.Is(err, ErrNotFound) {
				t.Errorf("get after delete: %v", err)
			}
		})
	}
}

// TestGetOrCreateRace has several goroutines create the same model at once:
// with plain creates exactly one wins and the others get ErrAlreadyExists
// (not a server error), which is what GetOrCreateRegisteredModel relies
// on; with GetOrCreateRegisteredModel every one comes back with the model,
// and the server holds just one.
func TestGetOrCreateRace(t *testing.T) {
	for server, c := range regServers(t) {
		t.Run(server, func(t *testing.T) {
			const n = 8
			plain := "regrace-plain-" + regSuffix(t)
			t.Cleanup(func() { c.DeleteRegisteredModel(t.Context(), plain) })
			var created, exists int
			var mu sync.Mutex
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := c.CreateRegisteredModel(t.Context(), CreateRegisteredModelRequest{Name: plain})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						created++
					case errors.Is(err, ErrAlreadyExists):
						exists++
					default:
						t.Errorf("racing create: %v", err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if created != 1 || exists != n-1 {
				t.Errorf("racing creates: %d created, %d already exists; want 1 and %d", created, exists, n-1)
			}

			name := "regrace-" + regSuffix(t)
			t.Cleanup(func() { c.DeleteRegisteredModel(t.Context(), name) })
			errs := make([]error, n)
			start = make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					m, err := c.GetOrCreateRegisteredModel(t.Context(), name)
					if err == nil && m.Name != name {
						err = fmt.Errorf("got model %q", m.Name)
					}
					errs[i] = err
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("goroutine %d: %v", i, err)
				}
			}
			page, err := c.SearchRegisteredModels(t.Context(), SearchRegisteredModelsRequest{Filter: fmt.Sprintf("name = '%s'", name)})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.RegisteredModels) != 1 {
				t.Errorf("%d models named %s", len(page.RegisteredModels), name)
			}
		})
	}
}

func TestModelVersions(t *testing.T) {
	for server, c := range regServers(t) {
		t.Run(server, func(t *testing.T) {
			ctx := t.Context()
			run := regRun(t, c, "")
			name := "regver-" + regSuffix(t)
			regModel(t, c, name)
			source := run.Info.ArtifactURI + "/model"

			var versions []*ModelVersion
			for i := range 3 {
				mv, err := c.CreateModelVersion(ctx, CreateModelVersionRequest{
					Name: name, Source: source, RunID: run.Info.RunID,
					Tags:        []Tag{{"auc", fmt.Sprint(0.7 + float64(i)/100)}, {"n", fmt.Sprint(i)}},
					Description: fmt.Sprintf("version %d", i+1),
				})
				if err != nil {
					t.Fatal(err)
				}
				mv, err = c.WaitModelVersionReady(ctx, name, mv.Version, 30*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if mv.Version != fmt.Sprint(i+1) || mv.Status != StatusReady || mv.RunID != run.Info.RunID || mv.Source != source {
					t.Errorf("version %d: %+v", i+1, mv)
				}
				versions = append(versions, mv)
			}

			got, err := c.GetModelVersion(ctx, name, "2")
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := got.Tag("n"); v != "1" || got.Description != "version 2" || got.CurrentStage != StageNone {
				t.Errorf("get version 2: %+v", got)
			}
			if _, err := c.GetModelVersion(ctx, name, "99"); !errors.Is(err, ErrNotFound) {
				t.Errorf("get version 99: %v, want ErrNotFound", err)
			}

			// Tags and description.
			if err := c.SetModelVersionTag(ctx, name, "2", "sha256", "abc"); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteModelVersionTag(ctx, name, "2", "n"); err != nil {
				t.Fatal(err)
			}
			upd, err := c.UpdateModelVersion(ctx, name, "2", "promoted candidate")
			if err != nil {
				t.Fatal(err)
			}
			if upd.Description != "promoted candidate" {
				t.Errorf("update returned %+v", upd)
			}
			got, err = c.GetModelVersion(ctx, name, "2")
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := got.Tag("sha256"); v != "abc" {
				t.Errorf("tag sha256 = %q", v)
			}
			if _, ok := got.Tag("n"); ok || got.Description != "promoted candidate" {
				t.Errorf("after delete-tag and update: %+v", got)
			}

			// Searches: by name with paging, by run, by tag.
			req := SearchModelVersionsRequest{Filter: fmt.Sprintf("name='%s'", name), MaxResults: 2}
			page, err := c.SearchModelVersions(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.ModelVersions) != 2 || page.NextPageToken == "" {
				t.Errorf("first page of 2: %d versions, token %q", len(page.ModelVersions), page.NextPageToken)
			}
			var all []string
			for v, err := range c.AllModelVersions(ctx, req) {
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, v.Version)
			}
			slices.Sort(all)
			if !slices.Equal(all, []string{"1", "2", "3"}) {
				t.Errorf("all versions: %v", all)
			}
			page, err = c.SearchModelVersions(ctx, SearchModelVersionsRequest{Filter: fmt.Sprintf("run_id='%s'", run.Info.RunID)})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.ModelVersions) != 3 {
				t.Errorf("by run_id: %d versions", len(page.ModelVersions))
			}
			page, err = c.SearchModelVersions(ctx, SearchModelVersionsRequest{Filter: fmt.Sprintf("name='%s' and tags.sha256='abc'", name)})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.ModelVersions) != 1 || page.ModelVersions[0].Version != "2" {
				t.Errorf("by tag: %+v", page.ModelVersions)
			}

			uri, err := c.GetModelVersionDownloadURI(ctx, name, "3")
			if err != nil {
				t.Fatal(err)
			}
			if uri != source {
				t.Errorf("download URI %q, want %q", uri, source)
			}

			_, err = c.CreateModelVersion(ctx, CreateModelVersionRequest{Name: name + "-missing", Source: source, RunID: run.Info.RunID})
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("version of a missing model: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestAliasesAndStages(t *testing.T) {
	for server, c := range regServers(t) {
		t.Run(server, func(t *testing.T) {
			ctx := t.Context()
			run := regRun(t, c, "")
			name := "regalias-" + regSuffix(t)
			regModel(t, c, name)
			for range 3 {
				if _, err := c.CreateModelVersion(ctx, CreateModelVersionRequest{Name: name, Source: run.Info.ArtifactURI + "/model", RunID: run.Info.RunID}); err != nil {
					t.Fatal(err)
				}
			}

			// A missing alias is ErrNotFound, whatever status the server used.
			_, err := c.GetModelVersionByAlias(ctx, name, "champion")
			var anf *AliasNotFoundError
			if !errors.Is(err, ErrNotFound) || !errors.As(err, &anf) || anf.Alias != "champion" {
				t.Fatalf("missing alias: %v, want an AliasNotFoundError", err)
			}
			if errors.Is(err, ErrInvalidParameter) {
				t.Errorf("missing alias also matches ErrInvalidParameter: %v", err)
			}

			// Set, read back, move, read back in all three places.
			if err := c.SetRegisteredModelAlias(ctx, name, "champion", "1"); err != nil {
				t.Fatal(err)
			}
			if err := c.SetRegisteredModelAlias(ctx, name, "challenger", "2"); err != nil {
				t.Fatal(err)
			}
			byAlias := func(alias, want string) {
				t.Helper()
				mv, err := c.GetModelVersionByAlias(ctx, name, alias)
				if err != nil {
					t.Fatal(err)
				}
				if mv.Version != want || !slices.Contains(mv.Aliases, alias) {
					t.Errorf("alias %s: version %s with aliases %v, want version %s", alias, mv.Version, mv.Aliases, want)
				}
			}
			byAlias("champion", "1")
			byAlias("challenger", "2")
			if err := c.SetRegisteredModelAlias(ctx, name, "champion", "3"); err != nil {
				t.Fatal(err)
			}
			byAlias("champion", "3")
			m, err := c.GetRegisteredModel(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := m.AliasVersion("champion"); v != "3" {
				t.Errorf("registered model aliases: %+v", m.Aliases)
			}
			if v, _ := m.AliasVersion("challenger"); v != "2" {
				t.Errorf("registered model aliases: %+v", m.Aliases)
			}
			v1, err := c.GetModelVersion(ctx, name, "1")
			if err != nil {
				t.Fatal(err)
			}
			if len(v1.Aliases) != 0 {
				t.Errorf("version 1 still has aliases %v after the move", v1.Aliases)
			}

			if err := c.DeleteRegisteredModelAlias(ctx, name, "challenger"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetModelVersionByAlias(ctx, name, "challenger"); !errors.Is(err, ErrNotFound) {
				t.Errorf("deleted alias: %v, want ErrNotFound", err)
			}
			for _, bad := range []string{"latest", "v1", "has space"} {
				if err := c.SetRegisteredModelAlias(ctx, name, bad, "1"); !errors.Is(err, ErrInvalidParameter) {
					t.Errorf("alias %q: %v, want ErrInvalidParameter", bad, err)
				}
			}

			// Stage transitions, read back through get-latest-versions.
			mv, err := c.TransitionModelVersionStage(ctx, name, "1", "staging", false)
			if err != nil {
				t.Fatal(err)
			}
			if mv.CurrentStage != StageStaging {
				t.Errorf("transition answered stage %q", mv.CurrentStage)
			}
			if _, err := c.TransitionModelVersionStage(ctx, name, "2", StageProduction, false); err != nil {
				t.Fatal(err)
			}
			latest := func(stages ...string) map[string]string {
				t.Helper()
				vs, err := c.GetLatestVersions(ctx, name, stages...)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for _, v := range vs {
					got[v.CurrentStage] = v.Version
				}
				return got
			}
			if got := latest(StageProduction); got[StageProduction] != "2" || len(got) != 1 {
				t.Errorf("latest production: %v", got)
			}
			if _, err := c.TransitionModelVersionStage(ctx, name, "3", StageProduction, true); err != nil {
				t.Fatal(err)
			}
			if got := latest(); got[StageProduction] != "3" || got[StageStaging] != "1" || got[StageArchived] != "2" {
				t.Errorf("latest of every stage after archiving: %v", got)
			}
			v2, err := c.GetModelVersion(ctx, name, "2")
			if err != nil {
				t.Fatal(err)
			}
			if v2.CurrentStage != StageArchived {
				t.Errorf("version 2 stage %q after archive_existing_versions", v2.CurrentStage)
			}
			if _, err := c.TransitionModelVersionStage(ctx, name, "1", "Nowhere", false); !errors.Is(err, ErrInvalidParameter) {
				t.Errorf("bad stage: %v, want ErrInvalidParameter", err)
			}
			// The alias is untouched by stage moves.
			byAlias("champion", "3")
		})
	}
}
