// Command benchtrain is the "bare training" side of scripts/bench-train: it
// loads the data, splits it and trains the model exactly as `pipeline train`
// does with the same config, and nothing else — no evaluation, plots, model
// directory or tracking — so that the script can tell what those add.
//
//	benchtrain -config FILE
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/creditrisk/engine/train"
)

func main() {
	config := flag.String("config", "", "train config (YAML)")
	flag.Parse()
	if err := run(*config); err != nil {
		fmt.Fprintln(os.Stderr, "benchtrain:", err)
		os.Exit(1)
	}
}

func run(config string) error {
	cfg := train.DefaultConfig()
	if config != "" {
		var err error
		if cfg, err = train.LoadConfig(config); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := train.Bare(context.Background(), cfg); err != nil {
		return err
	}
	fmt.Printf("{\"seconds\": %.3f}\n", time.Since(start).Seconds())
	return nil
}
