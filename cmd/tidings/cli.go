package main

import (
	"context"
	"io"

	"github.com/tidings/tidings/internal/cli"
)

// runCLI runs every management command through the Go client.
func runCLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return cli.Run(ctx, args, getenv, stdout, stderr)
}
