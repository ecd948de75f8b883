// Command benchfloor is the floor that pipeline serve's throughput is
// measured against (scripts/bench-serve): a bare net/http server whose
// POST /invocations decodes the JSON body into a map, as any Go handler
// that reads a request would, and answers a constant prediction. It does
// no validation, no scoring and no metrics, so it is what net/http and
// encoding/json cost on this machine; a scoring server at or above it
// spends less on its own work than a generic decode does.
//
// The issue asks for this program in serve/bench; every main package of
// the module lives under cmd/ (docs/architecture.md), so it is here.
//
//	benchfloor [-addr 127.0.0.1:18002] [-decode unmarshal|decoder]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18002", "listen address")
	mode := flag.String("decode", "unmarshal", "unmarshal (io.ReadAll and json.Unmarshal) or decoder (json.NewDecoder)")
	flag.Parse()
	h, err := handler(*mode)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchfloor:", err)
		os.Exit(2)
	}
	log.Fatal(http.ListenAndServe(*addr, h))
}

// handler is the floor: POST /invocations decodes the body into a map and
// answers a constant; GET /ping answers 200.
func handler(mode string) (http.Handler, error) {
	answer := []byte(`{"predictions": [0.5]}` + "\n")
	decode := func(r io.Reader, v any) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}
	switch mode {
	case "unmarshal":
	case "decoder":
		decode = func(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
	default:
		return nil, fmt.Errorf("-decode %q: want unmarshal or decoder", mode)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := decode(r.Body, &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {})
	return mux, nil
}
