// Command tidings is the Tidings real-time channel server and its CLI.
//
//	tidings serve [flags]     run a node
//	tidings <command> ...     manage streams, widgets and keys; publish; tail
//
// Run "tidings help" for the list of commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tidings:", err)
		os.Exit(1)
	}
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "serve" {
		return serve(ctx, args[1:], getenv, stdout, stderr)
	}
	return runCLI(ctx, args, getenv, stdout, stderr)
}
