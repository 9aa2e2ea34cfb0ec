package main

import (
	"context"
	"strings"
	"time"
)

// completeTimeout bounds the server lookup behind one completion.
const completeTimeout = 2 * time.Second

// complete is liner's word completer: the first word completes to command
// names, a word starting with "/" to znode paths (children of the node
// named so far). It runs on the line reader goroutine.
func (sh *shell) complete(line string, pos int) (head string, completions []string, tail string) {
	head, tail = line[:pos], line[pos:]
	start := strings.LastIndexAny(head, " \t") + 1
	word := head[start:]
	head = head[:start]
	if strings.TrimSpace(head) == "" {
		for _, name := range commandNames() {
			if strings.HasPrefix(name, word) {
				completions = append(completions, name+" ")
			}
		}
		return head, completions, tail
	}
	if !strings.HasPrefix(word, "/") {
		return head, nil, tail
	}
	sh.complMu.Lock()
	s := sh.complSess
	sh.complMu.Unlock()
	if s == nil {
		return head, nil, tail
	}
	slash := strings.LastIndexByte(word, '/')
	parent, prefix := word[:slash], word[slash+1:]
	if parent == "" {
		parent = "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	defer cancel()
	children, _, _, err := s.Children(ctx, parent, false)
	if err != nil {
		return head, nil, tail
	}
	sortJava(children)
	for _, c := range children {
		if strings.HasPrefix(c, prefix) {
			completions = append(completions, joinChild(parent, c))
		}
	}
	return head, completions, tail
}
