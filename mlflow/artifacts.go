package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// This file holds the artifact calls that go through the tracking server:
// the tracking service's artifacts/list and the artifact proxy
// (mlflow-artifacts: URIs, served by "mlflow server --serve-artifacts").
// Package artifact builds its stores on them.

// FileInfo describes one artifact: a file or a directory.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#fileinfo
type FileInfo struct {
	// Path is relative to the listed root (the run's artifact root for
	// ListArtifacts), with "/" separators.
	Path  string `json:"path"`
	IsDir bool   `json:"is_dir"`
	Size  int64  `json:"file_size"` // bytes; 0 for directories
}

// ListArtifacts lists the artifacts of a run directly under path ("" for the
// root), following all pages. The server itself reads the run's artifact
// store, so this also shows what other clients will see.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#list-artifacts
func (c *Client) ListArtifacts(ctx context.Context, runID, path string) ([]FileInfo, error) {
	files, err := collect(Paginate("", func(token string) ([]FileInfo, string, error) {
		q := url.Values{"run_id": {runID}}
		if path != "" {
			q.Set("path", path)
		}
		if token != "" {
			q.Set("page_token", token)
		}
		var out struct {
			Files         []FileInfo `json:"files"`
			NextPageToken string     `json:"next_page_token"`
		}
		err := c.do(ctx, http.MethodGet, "/api/2.0/mlflow/artifacts/list", q, &out)
		return out.Files, out.NextPageToken, err
	}))
	if err != nil {
		return nil, fmt.Errorf("list artifacts of run %s under %q: %w", runID, path, err)
	}
	return files, nil
}

// proxyPrefix is where the artifact proxy's routes live.
const proxyPrefix = "/api/2.0/mlflow-artifacts/artifacts"

// cleanProxyPath checks a path below the proxy's artifact destination.
func cleanProxyPath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" || p == "." {
		return "", nil
	}
	if path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("artifact path %q is not a clean relative path", p)
	}
	return p, nil
}

// UploadProxyArtifact stores body as the file at p (relative to the proxy's
// artifact destination, e.g. "1/<run>/artifacts/model/MLmodel"). body is
// re-read from its start if the upload is retried.
// https://mlflow.org/docs/latest/api_reference/rest-api.html (mlflow-artifacts service)
func (c *Client) UploadProxyArtifact(ctx context.Context, p string, body io.ReadSeeker, contentType string) error {
	p, err := cleanProxyPath(p)
	if err != nil {
		return fmt.Errorf("upload %s: %w", p, err)
	}
	if p == "" {
		return errors.New("upload: empty artifact path")
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	resp, err := c.doRaw(ctx, http.MethodPut, proxyPrefix+"/"+p, nil, body, contentType)
	if err != nil {
		return fmt.Errorf("upload %s: %w", p, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("upload %s: read answer: %w", p, err)
	}
	return nil
}

// DownloadProxyArtifact opens the file at p below the proxy's artifact
// destination; the caller closes it. A missing file gives an error for
// which errors.Is(err, ErrNotFound) holds.
func (c *Client) DownloadProxyArtifact(ctx context.Context, p string) (io.ReadCloser, error) {
	p, err := cleanProxyPath(p)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", p, err)
	}
	resp, err := c.doRaw(ctx, http.MethodGet, proxyPrefix+"/"+p, nil, nil, "")
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", p, err)
	}
	return resp.Body, nil
}

// DeleteProxyArtifact deletes the file or directory at p below the proxy's
// artifact destination.
func (c *Client) DeleteProxyArtifact(ctx context.Context, p string) error {
	p, err := cleanProxyPath(p)
	if err != nil {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	if p == "" {
		return errors.New("delete: empty artifact path")
	}
	resp, err := c.doRaw(ctx, http.MethodDelete, proxyPrefix+"/"+p, nil, nil, "")
	if err != nil {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	resp.Body.Close()
	return nil
}

// ListProxyArtifacts lists the entries directly under the directory p of
// the proxy's artifact destination. Unlike the server's answer, which
// holds base names, the paths returned are p/<name>.
func (c *Client) ListProxyArtifacts(ctx context.Context, p string) ([]FileInfo, error) {
	p, err := cleanProxyPath(p)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	q := url.Values{}
	if p != "" {
		q.Set("path", p)
	}
	resp, err := c.doRaw(ctx, http.MethodGet, proxyPrefix, q, nil, "")
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("list %s: read answer: %w", p, err)
	}
	files, err := decodeProxyList(data, p)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	return files, nil
}

// decodeProxyList decodes the proxy's {"files": [{path, is_dir,
// file_size}]} answer. Each path must be a plain base name; sizes may come
// as numbers or as strings (protobuf JSON writes int64 as strings).
func decodeProxyList(data []byte, dir string) ([]FileInfo, error) {
	var out struct {
		Files []struct {
			Path  string          `json:"path"`
			IsDir bool            `json:"is_dir"`
			Size  json.RawMessage `json:"file_size"`
		} `json:"files"`
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decode answer (%s): %w", shortText(data[:min(len(data), 200)]), err)
	}
	files := make([]FileInfo, 0, len(out.Files))
	for i, f := range out.Files {
		name := f.Path
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			return nil, fmt.Errorf("entry %d: path %q is not a base name", i, name)
		}
		size, err := decodeSize(f.Size)
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s): file_size: %w", i, name, err)
		}
		if dir != "" {
			name = dir + "/" + name
		}
		files = append(files, FileInfo{Path: name, IsDir: f.IsDir, Size: size})
	}
	return files, nil
}

func decodeSize(raw json.RawMessage) (int64, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative size %d", n)
	}
	return n, nil
}

// RunArtifactURI returns the root of a run's artifacts (run.info.artifact_uri),
// e.g. s3://mlflow/1/<run>/artifacts.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#get-run
func (c *Client) RunArtifactURI(ctx context.Context, runID string) (string, error) {
	var out struct {
		Run struct {
			Info struct {
				ArtifactURI string `json:"artifact_uri"`
			} `json:"info"`
		} `json:"run"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/2.0/mlflow/runs/get", url.Values{"run_id": {runID}}, &out); err != nil {
		return "", fmt.Errorf("get artifact URI of run %s: %w", runID, err)
	}
	if out.Run.Info.ArtifactURI == "" {
		return "", fmt.Errorf("get artifact URI of run %s: the server returned none", runID)
	}
	return out.Run.Info.ArtifactURI, nil
}
