package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: it returns the exit status (0 success, 1
// failure, 2 bad usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "zkbench:", err)
		return 2
	case err != nil: // the flag package has printed the error and usage
		return 2
	}
	var res report
	switch {
	case cfg.connectProbe:
		res, err = runProbe(ctx, &cfg)
	case cfg.populate > 0:
		res, err = runPopulate(ctx, &cfg)
	case cfg.purge:
		res, err = runPurge(ctx, &cfg)
	case cfg.workload == workloadLock || cfg.workload == workloadLeader:
		res, err = runRecipe(ctx, &cfg)
	default:
		res, err = runBench(ctx, &cfg)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cfg.json {
		err = json.NewEncoder(stdout).Encode(res)
	} else {
		err = res.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "zkbench:", err)
		return 1
	}
	return 0
}
