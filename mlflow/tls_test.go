package mlflow

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// selfSigned returns a PEM file holding a fresh certificate and its key.
func selfSigned(t *testing.T, cn string) (path string, cert tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})...)
	path = filepath.Join(t.TempDir(), cn+".pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err = tls.X509KeyPair(data, data)
	if err != nil {
		t.Fatal(err)
	}
	return path, cert
}

func TestTLS(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var sawClientCert atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		sawClientCert.Store(len(r.TLS.PeerCertificates) > 0)
		_, _ = w.Write([]byte("{}"))
	}))
	var hellos atomic.Int32
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		hellos.Add(1)
		return nil, nil
	}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	clientPath, _ := selfSigned(t, "client")
	otherCA, _ := selfSigned(t, "other")

	tests := []struct {
		name       string
		opts       []Option
		wantErr    bool
		clientCert bool
	}{
		{"system roots reject the test CA", nil, true, false},
		{"server cert path", []Option{WithServerCert(caPath)}, false, false},
		{"wrong CA", []Option{WithServerCert(otherCA)}, true, false},
		{"insecure", []Option{WithInsecureTLS(true)}, false, false},
		{"client cert", []Option{WithServerCert(caPath), WithClientCert(clientPath)}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(srv.URL, append(tt.opts, WithRetries(3, time.Millisecond, 0))...)
			if err != nil {
				t.Fatal(err)
			}
			before, beforeHellos := calls.Load(), hellos.Load()
			err = c.do(t.Context(), "GET", "/x", nil, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error: %v", err, tt.wantErr)
			}
			if n := hellos.Load() - beforeHellos; err != nil && n != 1 {
				t.Errorf("certificate error after %d handshakes; it must not be retried", n)
			}
			if err == nil && (calls.Load() != before+1 || sawClientCert.Load() != tt.clientCert) {
				t.Errorf("calls %d→%d, client cert %v", before, calls.Load(), sawClientCert.Load())
			}
		})
	}
	if _, err := NewClient(srv.URL, WithClientCert(caPath)); err == nil {
		t.Error("a client cert file without a key was accepted")
	}
	if _, err := NewClient(srv.URL, WithServerCert(caPath), WithHTTPClient(http.DefaultClient)); err == nil {
		t.Error("TLS options with a custom HTTP client were accepted")
	}
}
