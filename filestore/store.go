// Package filestore is an MLflow tracking and model-registry store kept in
// MLflow's file-store layout (./mlruns): experiments, runs with params,
// metric histories, tags, dataset inputs and artifacts, and the models/
// registry with versions, tags and aliases. MLflow's own Python client reads
// what it writes (MLflow 2.9 directly, 3.x with MLFLOW_ALLOW_FILE_STORE=true),
// and it reads stores that MLflow wrote.
//
// Several processes may write one store at once: every file is written to a
// temporary file and renamed into place, metric points are appended one
// write per key, run and experiment ids are random, and what must be unique
// (experiment names, registered models, version numbers) or is
// read-modify-write (meta.yaml updates) is done under a lock file
// (<root>/.lock, flock) plus an in-process mutex.
//
// To look at a store with MLflow's tools:
//
//	mlflow ui --backend-store-uri ./mlruns                               # MLflow 2.x
//	MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ./mlruns  # MLflow 3.x
//	mlflow migrate-filestore --source ./mlruns --target sqlite:///mlflow.db
//
// A Store is a tracking.Backend: it answers the calls of package mlflow's
// REST client with the same signatures, checks names and values with that
// package's validators (so both refuse the same input with the same error),
// and keeps its files one per resource like the client (experiments.go,
// runs.go, metrics.go, inputs.go, logmodel.go, artifacts.go, registry.go,
// versions.go, aliases.go). Not supported: search filters beyond name='…'
// and run_id='…' for model versions (refused with ErrInvalidParameter
// rather than ignored), filters and order_by elsewhere, deleting or
// restoring runs and experiments, and models:/ URIs as version sources.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditrisk/engine/artifact/file"
	"github.com/creditrisk/engine/internal/tempfile"
	"github.com/creditrisk/engine/mlflow"
)

// Folder and file names of the layout (mlflow/store/tracking/file_store.py).
const (
	metaFile      = "meta.yaml"
	trashDir      = ".trash"
	modelsDir     = "models"
	tagsDir       = "tags"
	paramsDir     = "params"
	metricsDir    = "metrics"
	artifactsDir  = "artifacts"
	datasetsDir   = "datasets"
	inputsDir     = "inputs"
	aliasesDir    = "aliases"
	lockFile      = ".lock"
	tmpPrefix     = ".tmp-"
	defaultExpID  = "0"
	defaultExp    = "Default"
	stageActive   = "active"
	stageDeleted  = "deleted"
	versionPrefix = "version-"
)

// Store is a tracking and registry store below one root directory. It is
// safe for concurrent use, also by several processes.
type Store struct {
	root  string // absolute
	mu    sync.Mutex
	ready atomic.Bool // ensure has made the root
	// now is the clock of timestamps.
	now func() time.Time
}

// Open opens the store at root: a directory path such as "./mlruns" or a
// file: URI. Nothing is written until the store is first used; then, like
// MLflow, a new store gets the experiment "Default" with ID 0, a .trash
// folder and the models folder. So a command that fails before it records
// anything leaves no empty ./mlruns behind.
func Open(root string) (*Store, error) {
	dir, err := file.Dir(root)
	if err != nil {
		return nil, fmt.Errorf("open file store: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open file store %s: %w", root, err)
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("open file store %s: not a directory", abs)
	}
	return &Store{root: abs, now: time.Now}, nil
}

// ensure creates the store's root, .trash, models and the Default
// experiment when missing, once per Store; every call goes through it.
func (s *Store) ensure(ctx context.Context) error {
	if s.ready.Load() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready.Load() {
		return nil
	}
	if err := os.MkdirAll(s.root, 0o777); err != nil {
		return fmt.Errorf("create file store: %w", err)
	}
	unlock, err := lockPath(filepath.Join(s.root, lockFile))
	if err != nil {
		return fmt.Errorf("lock %s: %w", s.root, err)
	}
	defer unlock()
	for _, d := range []string{trashDir, modelsDir} {
		if err := os.MkdirAll(filepath.Join(s.root, d), 0o777); err != nil {
			return fmt.Errorf("create file store: %w", err)
		}
	}
	s.sweep()
	has, err := s.hasExperiments()
	if err != nil {
		return fmt.Errorf("create file store: %w", err)
	}
	if !has {
		if _, err := s.createExperiment(defaultExpID, defaultExp, "", nil); err != nil {
			return fmt.Errorf("create file store: %w", err)
		}
	}
	s.ready.Store(true)
	return nil
}

// staleAfter is the age from which a writer's leftover (a temporary file,
// a staged version or input folder) is taken for a crash's: no write holds
// one for that long.
const staleAfter = time.Hour

// sweep removes stale temporary entries a killed writer left: at the root,
// in models/ and each model's folder (staged versions, deleted models) and
// in each run's folder (staged inputs). It runs at most once per
// staleAfter (the root's .swept marker says when it last did), under
// the lock, and errors only leave the leftovers for the next time.
func (s *Store) sweep() {
	marker := filepath.Join(s.root, ".swept")
	now := s.now()
	if st, err := os.Stat(marker); err == nil && now.Sub(st.ModTime()) < staleAfter {
		return
	}
	dirs := []string{s.root, filepath.Join(s.root, modelsDir)}
	models, _ := os.ReadDir(filepath.Join(s.root, modelsDir))
	for _, m := range models {
		if m.IsDir() && !strings.HasPrefix(m.Name(), ".") {
			dirs = append(dirs, filepath.Join(s.root, modelsDir, m.Name()))
		}
	}
	exps, _ := os.ReadDir(s.root)
	for _, e := range exps {
		if !e.IsDir() || !isExperimentDirName(e.Name()) {
			continue
		}
		runs, _ := os.ReadDir(filepath.Join(s.root, e.Name()))
		for _, r := range runs {
			if r.IsDir() && validateRunID(r.Name()) == nil {
				dirs = append(dirs, filepath.Join(s.root, e.Name(), r.Name()))
			}
		}
	}
	for _, d := range dirs {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), tmpPrefix) {
				continue
			}
			if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > staleAfter {
				os.RemoveAll(filepath.Join(d, e.Name()))
			}
		}
	}
	if f, err := os.Create(marker); err == nil {
		f.Close()
		os.Chtimes(marker, now, now)
	}
}

// Root is the store's directory (absolute).
func (s *Store) Root() string { return s.root }

// TrackingURI is the store's file: URI, what MLFLOW_TRACKING_URI should be
// for MLflow's tools to read it.
func (s *Store) TrackingURI() string { return fileURI(s.root) }

// fileURI is the file:// URI of an absolute path, as MLflow's
// path_to_local_file_uri writes it.
func fileURI(abs string) string {
	return "file://" + filepath.ToSlash(abs)
}

// hasExperiments reports whether the root holds any experiment folder.
func (s *Store) hasExperiments() (bool, error) {
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		if e.IsDir() && isExperimentDirName(e.Name()) {
			return true, nil
		}
	}
	return false, nil
}

// isExperimentDirName tells experiment folders from the other folders at
// the root.
func isExperimentDirName(name string) bool {
	return name != trashDir && name != modelsDir && !strings.HasPrefix(name, ".")
}

// locked runs fn holding the store's lock: the in-process mutex and an
// exclusive flock on <root>/.lock for other processes.
func (s *Store) locked(ctx context.Context, fn func() error) error {
	if err := s.ensure(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockPath(filepath.Join(s.root, lockFile))
	if err != nil {
		return fmt.Errorf("lock %s: %w", s.root, err)
	}
	defer unlock()
	return fn()
}

// writeFile replaces path with data atomically: readers see the old or the
// new content, never a part. The temporary file lives at the root, where
// MLflow ignores plain files, so it never shows up as a tag or param.
func (s *Store) writeFile(path string, data []byte) error {
	tmp, err := s.tempFile(data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// createFile writes path atomically unless it exists; then it returns an
// error for which errors.Is(err, fs.ErrExist) holds.
func (s *Store) createFile(path string, data []byte) error {
	tmp, err := s.tempFile(data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	// link fails when path exists, which makes create-if-absent atomic.
	return os.Link(tmp, path)
}

func (s *Store) tempFile(data []byte) (string, error) {
	f, err := tempfile.Create(s.root, tmpPrefix, 0o666)
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// appendFile appends data to path in one write; O_APPEND writes of a
// regular file do not interleave, so concurrent loggers of one metric
// keep whole lines.
func appendFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	return errors.Join(werr, f.Close())
}

// readTree reads every file below dir as key (its slash path relative to
// dir) → content: the tags, params and aliases folders, where "/" in a key
// makes subfolders. A missing dir is empty.
func readTree(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func sortedTags(m map[string]string) []mlflow.Tag {
	out := make([]mlflow.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, mlflow.Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	if len(out) == 0 {
		return nil
	}
	return out
}

// pageOf picks the window [from, to) of n results that maxResults
// (0: 1000) and token (an offset, "" for the start) name, and the next
// page's token.
func pageOf(n int, maxResults int64, token string) ([2]int, string, error) {
	if maxResults <= 0 {
		maxResults = 1000
	}
	from := 0
	if token != "" {
		v, err := strconv.Atoi(token)
		if err != nil || v < 0 {
			return [2]int{}, "", fmt.Errorf("page token %q is malformed: %w", token, mlflow.ErrInvalidParameter)
		}
		from = v
	}
	from = min(from, n)
	to := int(math.Min(float64(n), float64(from)+float64(maxResults)))
	next := ""
	if to < n {
		next = strconv.Itoa(to)
	}
	return [2]int{from, to}, next, nil
}
