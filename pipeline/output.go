package main

import (
	"encoding/json"
	"io"

	"github.com/urfave/cli/v2"
)

// outputFlag is --output, which every command that reports takes.
func outputFlag() cli.Flag {
	return &cli.StringFlag{Name: "output", Value: "text", Usage: "text or json"}
}

// outputFormat reads --output.
func outputFormat(c *cli.Context) (string, error) {
	return checkFormat(c.String("output"))
}

// checkFormat accepts text and json.
func checkFormat(format string) (string, error) {
	if format != "text" && format != "json" {
		return "", usageError("--output: %q is neither text nor json", format)
	}
	return format, nil
}

// writeOutput prints v as indented JSON or with the text printer.
func writeOutput(w io.Writer, format string, v any, text func(io.Writer) error) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return text(w)
}
