package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/zkgo/zkgo/config"
)

// findConfig returns the zoo.cfg to use, or "" for the built-in defaults,
// looking where zkServer.sh does:
//
//  1. a file argument containing a '/' is used as given;
//  2. --config DIR|FILE: a file is used as given, a directory holds the
//     file named by the argument, $ZOOCFG or "zoo.cfg";
//  3. $ZOOCFGDIR holds that file;
//  4. conf/ under the working directory, then conf/ beside the directory
//     holding this program (zkServer.sh's $ZOOBINDIR/../conf);
//  5. otherwise the built-in defaults.
//
// A location named explicitly (1-3, or a file argument) must exist.
func findConfig(flagVal, arg string, getenv func(string) string, exeDir string) (string, error) {
	name := "zoo.cfg"
	if v := getenv("ZOOCFG"); v != "" {
		name = v
	}
	if arg != "" {
		if strings.ContainsRune(arg, filepath.Separator) {
			return mustExist(arg, "config file")
		}
		name = arg
	}
	if flagVal != "" {
		fi, err := os.Stat(flagVal)
		if err != nil {
			return "", fmt.Errorf("--config: %w", err)
		}
		if !fi.IsDir() {
			if arg != "" {
				return "", fmt.Errorf("--config %s is a file; a config file argument (%s) needs a directory", flagVal, arg)
			}
			return flagVal, nil
		}
		return mustExist(filepath.Join(flagVal, name), "config file in --config directory")
	}
	if dir := getenv("ZOOCFGDIR"); dir != "" {
		return mustExist(filepath.Join(dir, name), "config file in $ZOOCFGDIR")
	}
	candidates := []string{filepath.Join("conf", name)}
	if exeDir != "" {
		candidates = append(candidates, filepath.Join(exeDir, "..", "conf", name))
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
	}
	if arg != "" {
		return "", fmt.Errorf("config file %s: not found in %s: %w", arg, strings.Join(candidates, ", "), fs.ErrNotExist)
	}
	return "", nil
}

func mustExist(path, what string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%s: %s is a directory", what, path)
	}
	return path, nil
}

// loadConfig loads path, or returns the validated defaults when path is "".
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		c := config.Default()
		return c, c.Validate()
	}
	return config.Load(path)
}

// describeConfig is how "Using config: ..." names the source.
func describeConfig(path string) string {
	if path == "" {
		return "(built-in defaults)"
	}
	return path
}
