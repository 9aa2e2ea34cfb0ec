package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/proto"
)

// Quota nodes, as Apache ZooKeeper's Quotas: the quota of /a/b lives in
// /zookeeper/quota/a/b/zookeeper_limits, its usage in .../zookeeper_stats.
const (
	procZookeeper  = "/zookeeper"
	quotaZookeeper = "/zookeeper/quota"
	limitNode      = "zookeeper_limits"
	statNode       = "zookeeper_stats"
)

// quotaOpts are the options of setquota (with values) and delquota
// (flags), one of a group.
func quotaOpts(withValues, required bool) *optSet {
	return &optSet{
		opts: []opt{
			{name: "n", hasArg: withValues, desc: "num soft quota"},
			{name: "b", hasArg: withValues, desc: "bytes soft quota"},
			{name: "N", hasArg: withValues, desc: "num hard quota"},
			{name: "B", hasArg: withValues, desc: "bytes hard quota"},
		},
		group: &optGroup{names: []string{"n", "b", "N", "B"}, required: required},
	}
}

// quotaKey maps a quota option to its StatsTrack key.
func quotaKey(o string) string {
	switch o {
	case "n":
		return stCount
	case "b":
		return stBytes
	case "N":
		return stCountHardLimit
	}
	return stByteHardLimit
}

func runSetQuota(sh *shell, ctx context.Context, c *command, words []string) error {
	p, err := c.parseCmd(sh, quotaOpts(true, true), words)
	if err != nil {
		return err
	}
	path := p.args[1]
	if strings.HasPrefix(path, quotaZookeeper) {
		fmt.Fprintln(sh.errOut, "cannot set a quota under the path: "+quotaZookeeper)
		return nil
	}
	quota := statsTrack{}
	for _, k := range []string{stCount, stBytes, stCountHardLimit, stByteHardLimit} {
		quota.set(k, -1)
	}
	for _, o := range []string{"n", "b", "N", "B"} {
		if !p.has(o) {
			continue
		}
		v, err := parseJavaLong(p.value(o), o == "n" || o == "N")
		if err != nil {
			fmt.Fprintln(sh.errOut, "NumberFormatException happens when parsing the option value")
			return nil
		}
		count := o == "n" || o == "N"
		if count && v <= 0 {
			fmt.Fprintln(sh.errOut, "the num quota must be greater than zero")
			return nil
		}
		if !count && v < 0 {
			fmt.Fprintln(sh.errOut, "the bytes quota must be greater than or equal to zero")
			return nil
		}
		quota.set(quotaKey(o), v)
	}
	s, err := sh.connNode(ctx, path)
	if err != nil {
		return err
	}
	return sh.createQuota(ctx, s, path, quota)
}

// parseJavaLong parses s as Long.parseLong, or as Integer.parseInt if
// int32Range.
func parseJavaLong(s string, int32Range bool) (int64, error) {
	bits := 64
	if int32Range {
		bits = 32
	}
	return strconv.ParseInt(s, 10, bits)
}

// createQuota is SetQuotaCommand.createQuota: check that no ancestor or
// descendant of path has a quota, create the quota nodes, and warn if the
// subtree already exceeds the new quota.
func (sh *shell) createQuota(ctx context.Context, s session, path string, quota statsTrack) error {
	st, _, err := s.Exists(ctx, path, false)
	if err != nil {
		return serverErr(err, path)
	}
	if st == nil {
		return fail(path + " does not exist.")
	}
	if err := sh.checkChildQuota(ctx, s, path); err != nil {
		return err
	}
	if err := checkParentQuota(ctx, s, path); err != nil {
		return err
	}
	if st, _, err := s.Exists(ctx, quotaZookeeper, false); err != nil {
		return serverErr(err, quotaZookeeper)
	} else if st == nil {
		err := createIfMissing(ctx, s, procZookeeper, nil)
		if err == nil {
			err = createIfMissing(ctx, s, quotaZookeeper, nil)
		}
		if err != nil && !errors.Is(err, client.ErrNodeExists) {
			return err
		}
	}
	quotaPath := quotaZookeeper
	for _, seg := range javaSplit(path, "/")[1:] {
		quotaPath += "/" + seg
		st, _, err := s.Exists(ctx, quotaPath, false)
		if err != nil {
			return serverErr(err, quotaPath)
		}
		if st == nil {
			if err := createIfMissing(ctx, s, quotaPath, nil); err != nil && !errors.Is(err, client.ErrNodeExists) {
				return err
			}
		}
	}
	statPath := quotaPath + "/" + statNode
	limitPath := quotaPath + "/" + limitNode
	st, _, err = s.Exists(ctx, limitPath, false)
	if err != nil {
		return serverErr(err, limitPath)
	}
	if st == nil {
		if _, err := s.Create(ctx, limitPath, []byte(quota.String()), client.Persistent, 0, client.OpenACL()); err != nil {
			return serverErr(err, limitPath)
		}
		stats := statsTrack{}
		stats.set(stCount, 0)
		stats.set(stBytes, 0)
		if _, err := s.Create(ctx, statPath, []byte(stats.String()), client.Persistent, 0, client.OpenACL()); err != nil {
			return serverErr(err, statPath)
		}
		limits, err := readStatsTrack(ctx, s, limitPath)
		if err != nil {
			return err
		}
		usage, err := readStatsTrack(ctx, s, statPath)
		if err != nil {
			return err
		}
		sh.checkQuota(limits, usage)
		return nil
	}
	limits, err := readStatsTrack(ctx, s, limitPath)
	if err != nil {
		return err
	}
	for _, k := range []string{stCount, stBytes, stCountHardLimit, stByteHardLimit} {
		if v := quota.get(k); v > -1 {
			limits.set(k, v)
		}
	}
	usage, err := readStatsTrack(ctx, s, statPath)
	if err != nil {
		return err
	}
	sh.checkQuota(limits, usage)
	if _, err := s.Set(ctx, limitPath, []byte(limits.String()), -1); err != nil {
		return serverErr(err, limitPath)
	}
	return nil
}

// createIfMissing creates an empty persistent node, returning a printable
// error except for NodeExists, which is returned as is.
func createIfMissing(ctx context.Context, s session, path string, data []byte) error {
	_, err := s.Create(ctx, path, data, client.Persistent, 0, client.OpenACL())
	if err == nil || errors.Is(err, client.ErrNodeExists) {
		return err
	}
	return serverErr(err, path)
}

// readStatsTrack reads and parses a quota node.
func readStatsTrack(ctx context.Context, s session, path string) (statsTrack, error) {
	data, _, _, err := s.Get(ctx, path, false)
	if err != nil {
		return statsTrack{}, serverErr(err, path)
	}
	st, err := parseStatsTrack(string(data))
	if err != nil {
		return statsTrack{}, fail(err.Error())
	}
	return st, nil
}

// checkQuota warns (on stdout, as zkCli) when usage already exceeds the
// quota.
func (sh *shell) checkQuota(quota, usage statsTrack) {
	if c := quota.get(stCount); c > -1 && c < usage.get(stCount) ||
		quota.get(stCountHardLimit) > -1 && quota.get(stCountHardLimit) < usage.get(stCount) {
		fmt.Fprintf(sh.out, "[Warning]: the count quota you create is less than the existing count:%d\n", usage.get(stCount))
	}
	if b := quota.get(stBytes); b > -1 && b < usage.get(stBytes) ||
		quota.get(stByteHardLimit) > -1 && quota.get(stByteHardLimit) < usage.get(stBytes) {
		fmt.Fprintf(sh.out, "[Warning]: the bytes quota you create is less than the existing bytes:%d\n", usage.get(stBytes))
	}
}

// checkChildQuota fails if a node below path has a quota.
func (sh *shell) checkChildQuota(ctx context.Context, s session, path string) error {
	realPath := quotaZookeeper + path
	err := sh.visitSubtree(ctx, s, realPath, false, func(quotaPath string) error {
		children, _, _, err := s.Children(ctx, quotaPath, false)
		if errors.Is(err, client.ErrNoNode) {
			return nil
		}
		if err != nil {
			return serverErr(err, quotaPath)
		}
		for _, child := range children {
			if quotaPath != realPath && child == limitNode {
				return fail(path + " has a child " + strings.TrimPrefix(quotaPath, quotaZookeeper) + " which has a quota")
			}
		}
		return nil
	})
	var ce *cmdError
	if errors.As(err, &ce) && ce.msg == wrapperMessage(proto.ErrNoNode, realPath) {
		return nil // no quota below
	}
	return err
}

// checkParentQuota fails if an ancestor of path has a quota.
func checkParentQuota(ctx context.Context, s session, path string) error {
	splits := javaSplit(path, "/")
	quotaPath := quotaZookeeper
	for i := 1; i < len(splits)-1; i++ {
		quotaPath += "/" + splits[i]
		children, _, _, err := s.Children(ctx, quotaPath, false)
		if errors.Is(err, client.ErrNoNode) {
			return nil
		}
		if err != nil {
			return serverErr(err, quotaPath)
		}
		if len(children) == 0 {
			return nil
		}
		for _, child := range children {
			if quotaPath != quotaZookeeper+path && child == limitNode {
				return fail(path + " has a parent " + strings.TrimPrefix(quotaPath, quotaZookeeper) + " which has a quota")
			}
		}
	}
	return nil
}

func runListQuota(sh *shell, ctx context.Context, c *command, words []string) error {
	p, err := c.parseCmd(sh, &optSet{}, words)
	if err != nil {
		return err
	}
	path := p.args[1]
	limitPath := quotaZookeeper + path + "/" + limitNode
	statPath := quotaZookeeper + path + "/" + statNode
	fmt.Fprintln(sh.errOut, "absolute path is "+limitPath)
	s, err := sh.connNode(ctx, limitPath)
	if err != nil {
		return err
	}
	var tracks []statsTrack
	for _, qp := range []string{limitPath, statPath} {
		data, _, _, err := s.Get(ctx, qp, false)
		if errors.Is(err, client.ErrNoNode) {
			fmt.Fprintln(sh.errOut, "quota for "+path+" does not exist.")
			return nil
		}
		if err != nil {
			return serverErr(err, qp)
		}
		st, err := parseStatsTrack(string(data))
		if err != nil {
			return fail(err.Error())
		}
		tracks = append(tracks, st)
	}
	fmt.Fprintf(sh.out, "Output quota for %s %s\n", path, tracks[0])
	fmt.Fprintf(sh.out, "Output stat for %s %s\n", path, tracks[1])
	return nil
}

func runDelQuota(sh *shell, ctx context.Context, c *command, words []string) error {
	p, err := c.parseCmd(sh, quotaOpts(false, false), words)
	if err != nil {
		return err
	}
	path := p.args[1]
	parentPath := quotaZookeeper + path
	limitPath := parentPath + "/" + limitNode
	s, err := sh.connNode(ctx, limitPath)
	if err != nil {
		return err
	}
	err = sh.delQuota(ctx, s, path, parentPath, limitPath, p)
	var ce *cmdError
	if errors.As(err, &ce) && strings.HasPrefix(ce.msg, "Node does not exist: ") {
		fmt.Fprintln(sh.errOut, "quota for "+path+" does not exist.")
		return nil
	}
	return err
}

// delQuota is DelQuotaCommand.delQuota: with no option, remove the quota
// nodes (and quota directories left empty); with options, clear only those
// limits.
func (sh *shell) delQuota(ctx context.Context, s session, path, parentPath, limitPath string, p *parsedArgs) error {
	st, _, err := s.Exists(ctx, limitPath, false)
	if err != nil {
		return serverErr(err, limitPath)
	}
	if st == nil {
		fmt.Fprintln(sh.out, "Quota does not exist for "+path)
		return nil
	}
	limits, err := readStatsTrack(ctx, s, limitPath)
	if err != nil {
		return err
	}
	if !p.has("n") && !p.has("b") && !p.has("N") && !p.has("B") {
		children, _, _, err := s.Children(ctx, parentPath, false)
		if err != nil {
			return serverErr(err, parentPath)
		}
		for _, child := range children {
			if err := s.Delete(ctx, parentPath+"/"+child, -1); err != nil {
				return serverErr(err, parentPath+"/"+child)
			}
		}
		return trimQuotaDirs(ctx, s, parentPath)
	}
	for _, o := range []string{"n", "b", "N", "B"} {
		if p.has(o) {
			limits.set(quotaKey(o), -1)
		}
	}
	if _, err := s.Set(ctx, limitPath, []byte(limits.String()), -1); err != nil {
		return serverErr(err, limitPath)
	}
	return nil
}

// trimQuotaDirs deletes path and its ancestors below /zookeeper/quota while
// they have no children.
func trimQuotaDirs(ctx context.Context, s session, path string) error {
	for path != quotaZookeeper {
		children, _, _, err := s.Children(ctx, path, false)
		if err != nil {
			return serverErr(err, path)
		}
		if len(children) > 0 {
			return nil
		}
		if err := s.Delete(ctx, path, -1); err != nil {
			return serverErr(err, path)
		}
		path = path[:strings.LastIndexByte(path, '/')]
	}
	return nil
}
