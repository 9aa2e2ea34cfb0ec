package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/zkgo/zkgo/client"
)

// drawTree prints the subtree below path as the tree(1) command draws
// directories, children in Java String order; prefix is the drawing of the
// levels above. Nodes deleted while drawing are skipped.
func drawTree(ctx context.Context, s session, w io.Writer, path, prefix string) error {
	children, _, _, err := s.Children(ctx, path, false)
	if errors.Is(err, client.ErrNoNode) {
		return nil
	}
	if err != nil {
		return serverErr(err, path)
	}
	sortJava(children)
	for i, c := range children {
		branch, indent := "├── ", "│   "
		if i == len(children)-1 {
			branch, indent = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s%s\n", prefix, branch, c)
		if err := drawTree(ctx, s, w, joinChild(path, c), prefix+indent); err != nil {
			return err
		}
	}
	return nil
}
