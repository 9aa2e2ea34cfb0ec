package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func runReconfig(sh *shell, ctx context.Context, c *command, words []string) error {
	set := &optSet{opts: []opt{
		{name: "s", desc: "stats"},
		{name: "v", hasArg: true, desc: "required current config version"},
		{name: "file", hasArg: true, desc: "path of config file to parse for membership"},
		{name: "members", hasArg: true, desc: "comma-separated list of config strings for non-incremental reconfig"},
		{name: "add", hasArg: true, desc: "comma-separated list of config strings for new servers"},
		{name: "remove", hasArg: true, desc: "comma-separated list of server IDs to remove"},
	}}
	p, err := c.parseCmd(sh, set, words)
	if err != nil {
		return err
	}
	hasFile, hasMembers, hasAdd, hasRemove := p.has("file"), p.has("members"), p.has("add"), p.has("remove")
	if !hasFile && !hasMembers && !hasAdd && !hasRemove {
		return c.usageErr()
	}
	version := int64(-1)
	if p.has("v") {
		if version, err = strconv.ParseInt(p.value("v"), 16, 64); err != nil {
			return fail("-v must be followed by a long (configuration version)")
		}
	}
	if (hasFile || hasMembers) && (hasAdd || hasRemove) {
		return fail("Can't use -file or -members together with -add or -remove (mixing incremental" +
			" and non-incremental modes is not allowed)")
	}
	if hasFile && hasMembers {
		return fail("Can't use -file and -members together (conflicting non-incremental modes)")
	}
	var joining, leaving, members string
	if hasAdd {
		joining = strings.ToLower(p.value("add"))
	}
	if hasRemove {
		leaving = strings.ToLower(p.value("remove"))
	}
	if hasMembers {
		members = strings.ToLower(p.value("members"))
	}
	if hasFile {
		if members, err = membersFromFile(p.value("file")); err != nil {
			return fail("Error processing " + p.value("file") + err.Error())
		}
	}
	s, err := sh.conn(ctx)
	if err != nil {
		return serverErr(err, "")
	}
	data, st, err := s.Reconfig(ctx, joining, leaving, members, version)
	if err != nil {
		return serverErr(err, "")
	}
	fmt.Fprintln(sh.out, "Committed new configuration:\n"+javaString(data))
	sh.printStatIf(p, st)
	return nil
}

// membersFromFile reads a dynamic configuration file (server.N=..., and
// group.N / weight.N lines) into the membership string of a
// non-incremental reconfig, one entry per line. zkCli validates it with the
// server's config parser first; zkcli leaves the checks to the server.
func membersFromFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !(strings.HasPrefix(key, "server.") || strings.HasPrefix(key, "group.") ||
			strings.HasPrefix(key, "weight.")) {
			continue
		}
		lines = append(lines, key+"="+strings.TrimSpace(value))
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if len(lines) == 0 {
		return "", fmt.Errorf(": no server.N entries")
	}
	return strings.Join(lines, "\n"), nil
}
