package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/promote"
	"github.com/creditrisk/engine/serve"
)

// binary is the pipeline command: a test that looks at a process's
// command line needs a process of its own.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the pipeline binary")
	}
	return testkit.Pipeline(t)
}

// modelDir saves a small gbdt model directory.
func modelDir(t *testing.T) string {
	t.Helper()
	tb, err := data.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Train(context.Background(), model.FamilyGBDT, tb, nil, model.TrainOptions{Params: map[string]string{"num_iterations": "5", "num_leaves": "7"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	if err := model.Save(dir, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeSecret(t *testing.T, value string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeSecretsNotInArgv starts the real binary with the admin token and
// the webhook secret given by file (flags, then variables): neither is in
// /proc/PID/cmdline (what ps shows) nor in the environment, the token
// works, and nothing is warned about. Given as --admin-token instead, it
// works too, with a warning.
func TestServeSecretsNotInArgv(t *testing.T) {
	bin := binary(t)
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		testkit.Unavailable(t, "/proc is not mounted: %v", err)
	}
	dir := modelDir(t)
	const token = "admin-0123456789abcdef0123456789abcdef"
	const hook = "hook-0123456789abcdef0123456789abcdef"
	tokenFile, hookFile := writeSecret(t, token), writeSecret(t, hook)
	for _, tc := range []struct {
		name     string
		args     []string
		env      []string
		inArgv   bool
		warnFlag string
	}{
		{"flags", []string{"--admin-token-file", tokenFile, "--webhook-secret-file", hookFile}, nil, false, ""},
		{"variables", nil, []string{"PIPELINE_SERVE_ADMIN_TOKEN_FILE=" + tokenFile, "PIPELINE_SERVE_WEBHOOK_SECRET_FILE=" + hookFile}, false, ""},
		{"on the command line", []string{"--admin-token", token}, nil, true, "--admin-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			var stderr syncBuffer
			cmd := exec.Command(bin, append([]string{"serve", "--model", dir, "--addr", addr, "--poll", "0", "--log-format", "text"}, tc.args...)...)
			cmd.Env = append(os.Environ(), tc.env...)
			cmd.Env = append(cmd.Env, "MLFLOW_TRACKING_URI=file://"+filepath.Join(t.TempDir(), "mlruns"))
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				cmd.Process.Kill()
				cmd.Wait()
			}()
			waitStatus(t, "http://"+addr+"/ready", 200)
			argv, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Contains(argv, []byte(token)); got != tc.inArgv {
				t.Errorf("token in /proc/PID/cmdline: %v, want %v (%q)", got, tc.inArgv, bytes.ReplaceAll(argv, []byte{0}, []byte{' '}))
			}
			for _, secret := range []string{token, hook} {
				if bytes.Contains(environ, []byte(secret)) {
					t.Errorf("a secret is in /proc/PID/environ")
				}
				if !tc.inArgv && bytes.Contains(argv, []byte(secret)) {
					t.Errorf("a secret is in /proc/PID/cmdline")
				}
			}
			req, _ := http.NewRequest("POST", "http://"+addr+"/admin/reload", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("/admin/reload with the token: %d", resp.StatusCode)
			}
			warned := strings.Contains(stderr.String(), "visible to every user")
			if warned != (tc.warnFlag != "") || (warned && !strings.Contains(stderr.String(), tc.warnFlag)) {
				t.Errorf("warning about a secret on the command line: %v, want %v; stderr:\n%s", warned, tc.warnFlag != "", stderr.String())
			}
			if strings.Contains(stderr.String(), token) || strings.Contains(stderr.String(), hook) {
				t.Errorf("a secret reached the log")
			}
		})
	}
}

// TestServeSecretUsage: short secrets, both forms at once, empty or
// missing files and the integrity flags' mistakes are usage errors.
func TestServeSecretUsage(t *testing.T) {
	localTracking(t)
	dir := modelDir(t)
	long := strings.Repeat("x", 32)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--admin-token-file", writeSecret(t, "short")}, "admin token is 5 bytes: want at least 32"},
		{[]string{"--webhook-secret", "short"}, "webhook secret is 5 bytes: want at least 32"},
		{[]string{"--admin-token", long, "--admin-token-file", writeSecret(t, long)}, "not both"},
		{[]string{"--admin-token-file", writeSecret(t, "  ")}, "is empty"},
		{[]string{"--webhook-secret-file", filepath.Join(t.TempDir(), "missing")}, "--webhook-secret-file"},
		{[]string{"--verify-key", writeSecret(t, "x")}, "needs a registered model"},
		{[]string{"--max-model-size", "0"}, "--max-model-size"},
	} {
		var errOut syncBuffer
		args := append([]string{"serve", "--model", dir, "--addr", freeAddr(t)}, tc.args...)
		if code := runServeCLI(context.Background(), &errOut, args...); code != 2 || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.msg)
		}
	}
	var errOut syncBuffer
	if code := runServeCLI(context.Background(), &errOut, "serve", "--model", "models:/m@champion", "--verify-key", writeSecret(t, "not a key")); code != 2 || !strings.Contains(errOut.String(), "no PEM block") {
		t.Errorf("--verify-key with a bad file: exit %d, stderr %q", code, errOut.String())
	}
}

// writeKeys writes an Ed25519 key pair as openssl writes them (PKCS#8 and
// SubjectPublicKeyInfo PEM) and returns the two paths.
func writeKeys(t *testing.T) (private, public string) {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pder, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	private, public = filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	if err := os.WriteFile(private, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(public, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder}), 0o644); err != nil {
		t.Fatal(err)
	}
	return private, public
}

// TestSignedPromotion: train registers into the local store, promote
// --sign-key signs, serve --verify-key serves the champion as signed and
// refuses it with another key.
func TestSignedPromotion(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("MLFLOW_TRACKING_URI", "")
	const name = "credit-signed"
	if code, _, stderr := pipeline(t, "train", "--register", name, "--model", "logistic"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	key, pub := writeKeys(t)
	code, stdout, stderr := pipeline(t, "promote", "--name", name, "--version", "1", "--sign-key", key, "--allow-no-pyfunc", "--output", "json")
	if code != 0 {
		t.Fatalf("promote --sign-key: exit %d: %s%s", code, stdout, stderr)
	}
	var d promote.Decision
	if err := json.Unmarshal([]byte(stdout), &d); err != nil || d.Integrity == nil || d.Integrity.KeyID == "" || d.Integrity.RecordedAt != "registration" {
		t.Fatalf("decision integrity %+v (%v)", d.Integrity, err)
	}
	serveVersion := func(pub string) (int, string, *serve.VersionResponse) {
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var errOut syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- runServeCLI(ctx, &errOut, "serve", "--model", "models:/"+name+"@champion", "--verify-key", pub, "--addr", addr, "--poll", "0")
		}()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case code := <-done:
				return code, errOut.String(), nil
			default:
			}
			if resp, err := http.Get("http://" + addr + "/version"); err == nil {
				var v serve.VersionResponse
				json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
				if v.Model != nil {
					cancel()
					return <-done, errOut.String(), &v
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("serve did not start: %s", errOut.String())
		return 0, "", nil
	}
	if code, logs, v := serveVersion(pub); code != 0 || v == nil || v.Model.Integrity != serve.IntegritySigned {
		t.Errorf("serve --verify-key: exit %d, /version %+v; logs %s", code, v, logs)
	}
	_, other := writeKeys(t)
	if code, logs, v := serveVersion(other); code != 1 || v != nil || !strings.Contains(logs, "is signed by key") {
		t.Errorf("serve --verify-key with another key: exit %d, /version %+v; logs %s", code, v, logs)
	}
}
