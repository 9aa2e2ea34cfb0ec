package replication

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
	"go.etcd.io/bbolt"
)

// On-disk layout: <DataDir>/snapshots/<term>-<index>-<ms>/{meta.json,state.bin}
// (raft.FileSnapshotStore) and <LogDir>/wal/{wal-meta.db,*.wal} (raft-wal).
// Each of DataDir and LogDir holds a lock file while a Node has it open.
const (
	lockFileName     = "replication.lock"
	walDirName       = "wal"
	snapshotsDirName = "snapshots" // chosen by raft.FileSnapshotStore
)

// raft-wal segment file header, as documented in raft-wal's README.
const (
	segmentMagic       = 0x58eb6b0d
	segmentHeaderLen   = 32
	segmentNamePattern = "%020d-%016x.wal"
)

// stores are the durable parts of a Node.
type stores struct {
	wal     *wal.WAL
	snaps   *raft.FileSnapshotStore
	unlocks []func() error
}

func (s *stores) close() error {
	var errs []error
	if s.wal != nil {
		errs = append(errs, s.wal.Close())
	}
	for _, u := range s.unlocks {
		errs = append(errs, u())
	}
	return errors.Join(errs...)
}

// openStores locks the directories, checks every file that raft-wal and
// the snapshot store would otherwise skip or silently repair, opens both
// stores and restores the newest snapshot into fsm. Raft itself is told not
// to restore (NoSnapshotRestoreOnStart), so a bad snapshot fails Open
// instead of making raft fall back to an older one whose log is gone.
func openStores(cfg *Config, log *hclogAdapter, fsm *fsmAdapter) (_ *stores, err error) {
	s := &stores{}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	walDir := filepath.Join(cfg.LogDir, walDirName)
	for _, d := range []string{cfg.DataDir, walDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("replication: %w", err)
		}
	}
	lockDirs := []string{cfg.DataDir}
	if cfg.LogDir != cfg.DataDir {
		lockDirs = append(lockDirs, cfg.LogDir)
	}
	for _, d := range lockDirs {
		unlock, err := lockDir(d)
		if err != nil {
			return nil, err
		}
		s.unlocks = append(s.unlocks, unlock)
	}

	if err := checkSnapshots(filepath.Join(cfg.DataDir, snapshotsDirName), log); err != nil {
		return nil, err
	}
	if s.snaps, err = raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.SnapshotRetain, log.Named("snapshot")); err != nil {
		return nil, fmt.Errorf("replication: snapshot store %s: %w", cfg.DataDir, err)
	}
	if err := checkWAL(walDir); err != nil {
		return nil, err
	}
	if s.wal, err = openWAL(walDir, cfg, log); err != nil {
		return nil, err
	}

	metas, err := s.snaps.List()
	if err != nil {
		return nil, fmt.Errorf("replication: list snapshots in %s: %w", cfg.DataDir, err)
	}
	var newest *raft.SnapshotMeta
	if len(metas) > 0 {
		newest = metas[0]
	}
	if err := checkLogCoverage(s.wal, newest, walDir); err != nil {
		return nil, err
	}
	if newest != nil {
		path := filepath.Join(cfg.DataDir, snapshotsDirName, newest.ID, "state.bin")
		_, rc, err := s.snaps.Open(newest.ID) // verifies the CRC
		if err != nil {
			return nil, fmt.Errorf("%w: snapshot %s: %w", ErrCorrupt, path, err)
		}
		err = fsm.restore(rc)
		_ = rc.Close()
		if err != nil {
			return nil, fmt.Errorf("replication: snapshot %s: %w", path, err)
		}
	}
	return s, nil
}

// checkSnapshots removes unfinished snapshots (*.tmp, left by a crash) and
// verifies that every finished one has a readable meta.json and a state.bin
// of the recorded size. raft's store would skip a bad meta.json without an
// error. The CRC of the newest snapshot is checked when it is opened.
func checkSnapshots(dir string, log *hclogAdapter) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replication: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		snap := filepath.Join(dir, e.Name())
		if strings.HasSuffix(e.Name(), ".tmp") {
			log.Warn("removing unfinished snapshot", "path", snap)
			if err := os.RemoveAll(snap); err != nil {
				return fmt.Errorf("replication: %w", err)
			}
			continue
		}
		metaPath := filepath.Join(snap, "meta.json")
		b, err := os.ReadFile(metaPath)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		var meta struct {
			Version raft.SnapshotVersion
			Size    int64
			CRC     []byte
		}
		if err := json.Unmarshal(b, &meta); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCorrupt, metaPath, err)
		}
		if meta.Version < raft.SnapshotVersionMin || meta.Version > raft.SnapshotVersionMax || len(meta.CRC) != 8 {
			return fmt.Errorf("%w: %s: unsupported version %d or missing CRC", ErrCorrupt, metaPath, meta.Version)
		}
		statePath := filepath.Join(snap, "state.bin")
		fi, err := os.Stat(statePath)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if fi.Size() != meta.Size {
			return fmt.Errorf("%w: %s: size %d, meta.json records %d", ErrCorrupt, statePath, fi.Size(), meta.Size)
		}
	}
	return nil
}

// checkWAL verifies what raft-wal would silently repair: it treats a
// truncated tail segment as a torn write and drops its entries, it deletes
// every segment that its meta database does not list, and it starts afresh
// (deleting all segments) without a meta database. Segments are
// preallocated to their size limit, so a shorter file was truncated. A
// missing or empty tail segment is accepted, as raft-wal does: a crash
// right after a rotation leaves one behind, with no entries.
func checkWAL(dir string) error {
	metaPath := filepath.Join(dir, metadb.FileName)
	segs, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		return fmt.Errorf("replication: %w", err)
	}
	if _, err := os.Stat(metaPath); errors.Is(err, os.ErrNotExist) {
		if len(segs) > 0 {
			return fmt.Errorf("%w: %s is missing but %s holds %d log segments", ErrCorrupt, metaPath, dir, len(segs))
		}
		return nil
	}
	state, err := loadWALMeta(metaPath)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, metaPath, err)
	}
	// A segment with an id the database never handed out means the
	// database lost transactions (bbolt falls back to the previous one when
	// the newest is damaged); raft-wal would delete the segment.
	for _, p := range segs {
		var base, id uint64
		if _, err := fmt.Sscanf(filepath.Base(p), segmentNamePattern, &base, &id); err != nil || id >= state.NextSegmentID {
			return fmt.Errorf("%w: log segment %s is unknown to %s", ErrCorrupt, p, metaPath)
		}
	}
	for i, si := range state.Segments {
		path := filepath.Join(dir, segment.FileName(si))
		tail := i == len(state.Segments)-1 && si.SealTime.IsZero()
		fi, err := os.Stat(path)
		if tail && errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: log segment listed in %s: %w", ErrCorrupt, metaPath, err)
		}
		// An empty tail is a crash between creating and preallocating it.
		if si.SizeLimit > 0 && fi.Size() < int64(si.SizeLimit) && !(tail && fi.Size() == 0) {
			return fmt.Errorf("%w: log segment %s is truncated: %d bytes, preallocated %d", ErrCorrupt, path, fi.Size(), si.SizeLimit)
		}
		if !tail {
			if err := checkSegmentHeader(path, si); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadWALMeta reads raft-wal's segment list read-only, before raft-wal
// opens the database read-write. bbolt panics on some damaged pages; the
// panic becomes an error.
func loadWALMeta(path string) (state types.PersistentState, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable database: %v", r)
		}
	}()
	db, err := bbolt.Open(path, 0o644, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return state, err
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(metadb.MetaBucket))
		if b == nil {
			return fmt.Errorf("bucket %q missing", metadb.MetaBucket)
		}
		if raw := b.Get([]byte(metadb.MetaKey)); raw != nil {
			return json.Unmarshal(raw, &state)
		}
		return nil
	})
	return state, err
}

// openWAL opens raft-wal, turning a panic of its bbolt meta database on a
// damaged page into an error. Such a panic leaves the meta file locked
// until the process exits.
func openWAL(dir string, cfg *Config, log *hclogAdapter) (w *wal.WAL, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrCorrupt, filepath.Join(dir, metadb.FileName), r)
		}
	}()
	w, err = wal.Open(dir, wal.WithLogger(log.Named("wal")), wal.WithSegmentSize(cfg.SegmentSize))
	if errors.Is(err, wal.ErrCorrupt) {
		return nil, fmt.Errorf("%w: log %s: %w", ErrCorrupt, dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("replication: open log %s: %w", dir, err)
	}
	return w, nil
}

// checkSegmentHeader verifies a sealed segment's header against the meta
// database, so that the error names the file (raft-wal's does not).
func checkSegmentHeader(path string, si types.SegmentInfo) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	defer f.Close()
	var h [segmentHeaderLen]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("%w: log segment %s: header: %w", ErrCorrupt, path, err)
	}
	if binary.LittleEndian.Uint32(h[0:4]) != segmentMagic ||
		binary.LittleEndian.Uint64(h[8:16]) != si.BaseIndex ||
		binary.LittleEndian.Uint64(h[16:24]) != si.ID {
		return fmt.Errorf("%w: log segment %s: header does not match the meta database", ErrCorrupt, path)
	}
	return nil
}

// checkLogCoverage makes sure the log continues where the newest snapshot
// ends, and that a node which has voted still has a log or a snapshot:
// raft would otherwise start with a hole in its history.
func checkLogCoverage(w *wal.WAL, newest *raft.SnapshotMeta, dir string) error {
	first, err := w.FirstIndex()
	if err != nil {
		return fmt.Errorf("replication: log %s: %w", dir, err)
	}
	last, err := w.LastIndex()
	if err != nil {
		return fmt.Errorf("replication: log %s: %w", dir, err)
	}
	var snapIndex uint64
	if newest != nil {
		snapIndex = newest.Index
	}
	if last > 0 && first > snapIndex+1 {
		return fmt.Errorf("%w: log %s starts at index %d but the newest snapshot ends at %d", ErrCorrupt, dir, first, snapIndex)
	}
	if last == 0 && newest == nil {
		term, err := w.GetUint64([]byte("CurrentTerm")) // raft's stable-store key
		if err != nil {
			return fmt.Errorf("replication: log %s: %w", dir, err)
		}
		if term > 0 {
			return fmt.Errorf("%w: log %s is empty and there is no snapshot, but term %d was recorded", ErrCorrupt, dir, term)
		}
	}
	for _, i := range []uint64{first, last} {
		if i == 0 {
			continue
		}
		var l raft.Log
		if err := w.GetLog(i, &l); err != nil {
			return fmt.Errorf("%w: log %s: entry %d: %w", ErrCorrupt, dir, i, err)
		}
	}
	return nil
}
