package mlflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// regFake starts a server answering with h and a client for it without
// retries.
func regFake(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, WithRetries(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRegistryRequests records what every registry call sends and compares
// it with testdata/registry_requests.golden (UPDATE_GOLDEN=1 rewrites it).
// The real servers prove that the calls work; this pins the exact shape:
// GET parameters in the query (repeated order_by), DELETE bodies in JSON.
func TestRegistryRequests(t *testing.T) {
	var mu sync.Mutex
	var log strings.Builder
	c := regFake(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		fmt.Fprintf(&log, "%s %s", r.Method, r.URL.Path)
		if r.URL.RawQuery != "" {
			fmt.Fprintf(&log, "?%s", r.URL.RawQuery)
		}
		if len(body) > 0 {
			fmt.Fprintf(&log, "\n  %s: %s", r.Header.Get("Content-Type"), body)
		}
		log.WriteString("\n")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/get-download-uri"):
			io.WriteString(w, `{"artifact_uri": "s3://mlflow/1/r/artifacts/model"}`)
		case strings.Contains(r.URL.Path, "/model-versions/") || strings.HasSuffix(r.URL.Path, "/alias") && r.Method == "GET":
			io.WriteString(w, `{"model_version": {"name": "m", "version": "1", "status": "READY"}}`)
		default:
			io.WriteString(w, `{}`)
		}
	})
	ctx := t.Context()
	steps := []func() error{
		func() error {
			_, err := c.CreateRegisteredModel(ctx, CreateRegisteredModelRequest{Name: "m", Description: "d", Tags: []Tag{{"k", "v"}}})
			return err
		},
		func() error { _, err := c.GetRegisteredModel(ctx, "m & co"); return err },
		func() error {
			_, err := c.SearchRegisteredModels(ctx, SearchRegisteredModelsRequest{Filter: "name LIKE 'm%'", MaxResults: 5, OrderBy: []string{"name ASC", "last_updated_timestamp DESC"}, PageToken: "tok"})
			return err
		},
		func() error { return c.SetRegisteredModelTag(ctx, "m", "k", "v") },
		func() error { return c.DeleteRegisteredModel(ctx, "m") },
		func() error {
			_, err := c.CreateModelVersion(ctx, CreateModelVersionRequest{Name: "m", Source: "s3://mlflow/1/r/artifacts/model", RunID: "r", Tags: []Tag{{"auc", "0.8"}}})
			return err
		},
		func() error { _, err := c.GetModelVersion(ctx, "m", "1"); return err },
		func() error {
			_, err := c.SearchModelVersions(ctx, SearchModelVersionsRequest{Filter: "name='m'", MaxResults: 2})
			return err
		},
		func() error { _, err := c.UpdateModelVersion(ctx, "m", "1", "new"); return err },
		func() error { return c.SetModelVersionTag(ctx, "m", "1", "k", "v") },
		func() error { return c.DeleteModelVersionTag(ctx, "m", "1", "k") },
		func() error { _, err := c.GetLatestVersions(ctx, "m", StageStaging, StageProduction); return err },
		func() error {
			_, err := c.TransitionModelVersionStage(ctx, "m", "1", StageProduction, true)
			return err
		},
		func() error { _, err := c.GetModelVersionDownloadURI(ctx, "m", "1"); return err },
		func() error { return c.SetRegisteredModelAlias(ctx, "m", "champion", "1") },
		func() error { _, err := c.GetModelVersionByAlias(ctx, "m", "champion"); return err },
		func() error { return c.DeleteRegisteredModelAlias(ctx, "m", "champion") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	golden := filepath.Join("testdata", "registry_requests.golden")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, []byte(log.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if got := log.String(); got != string(want) {
		t.Errorf("requests differ from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}

// versionStatuses serves model-versions/get answering the given statuses
// in turn (the last one repeats).
func versionStatuses(t *testing.T, statuses ...string) *Client {
	var mu sync.Mutex
	n := 0
	return regFake(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s := statuses[min(n, len(statuses)-1)]
		n++
		mu.Unlock()
		fmt.Fprintf(w, `{"model_version": {"name": "m", "version": "4", "status": %q, "status_message": "copy failed: no such key"}}`, s)
	})
}

func TestWaitModelVersionReady(t *testing.T) {
	ctx := t.Context()
	c := versionStatuses(t, StatusPendingRegistration, StatusPendingRegistration, StatusReady)
	mv, err := c.WaitModelVersionReady(ctx, "m", "4", 10*time.Second)
	if err != nil || mv.Status != StatusReady {
		t.Fatalf("pending then ready: %+v, %v", mv, err)
	}

	c = versionStatuses(t, StatusPendingRegistration, StatusFailedRegistration)
	_, err = c.WaitModelVersionReady(ctx, "m", "4", 10*time.Second)
	var re *RegistrationError
	if !errors.As(err, &re) || re.Version != "4" || !strings.Contains(err.Error(), "copy failed") {
		t.Fatalf("failed registration: %v, want a RegistrationError with the server's message", err)
	}

	c = versionStatuses(t, StatusPendingRegistration)
	start := time.Now()
	_, err = c.WaitModelVersionReady(ctx, "m", "4", 300*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), StatusPendingRegistration) {
		t.Fatalf("timeout: %v, want DeadlineExceeded naming the last status", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout of 300ms took %v", d)
	}
}

func TestAliasErrors(t *testing.T) {
	for _, tt := range []struct {
		name          string
		status        int
		body          string
		aliasNotFound bool
		notFound      bool
	}{
		{"3.x and 2.9.2 missing alias", 400, `{"error_code": "INVALID_PARAMETER_VALUE", "message": "Registered model alias champion not found."}`, true, true},
		{"missing model", 404, `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered Model with name=m not found"}`, false, true},
		{"bad alias name", 400, `{"error_code": "INVALID_PARAMETER_VALUE", "message": "'latest' alias name (case insensitive) is reserved."}`, false, false},
		{"server error", 500, `{"error_code": "INTERNAL_ERROR", "message": "boom"}`, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := regFake(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := c.GetModelVersionByAlias(t.Context(), "m", "champion")
			var anf *AliasNotFoundError
			if got := errors.As(err, &anf); got != tt.aliasNotFound {
				t.Errorf("AliasNotFoundError: %v (%v), want %v", got, err, tt.aliasNotFound)
			}
			if got := errors.Is(err, ErrNotFound); got != tt.notFound {
				t.Errorf("errors.Is(ErrNotFound) = %v (%v), want %v", got, err, tt.notFound)
			}
			if !strings.Contains(err.Error(), "champion") {
				t.Errorf("error does not name the alias: %v", err)
			}
		})
	}
}
