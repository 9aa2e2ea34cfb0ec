package server

import (
	"math/big"
	"sync/atomic"

	"github.com/zkgo/zkgo/internal/lockorder"
)

// defaultTraceMask is Apache ZooTrace's initial text trace mask (client
// requests, server packets, sessions, warnings), which gtmk reports.
const defaultTraceMask = 1<<1 | 1<<4 | 1<<5 | 1<<8

// stats are the server-wide counters shown by srvr, stat and mntr, and the
// little state the four-letter words keep. The zero value is ready to use.
type stats struct {
	received atomic.Int64 // packets received
	sent     atomic.Int64 // packets sent
	txns     atomic.Int64 // txns applied
	expired  atomic.Int64 // sessions expired
	authFail atomic.Int64

	mu lockorder.Mutex
	// guarded by mu: request latency in ms, as Apache's ServerStats
	latMin, latMax, latTotal, latCount int64
	// traceMask is the mask stmk set (Apache keeps it, unused, for gtmk);
	// traceMaskSet false means defaultTraceMask. Guarded by mu.
	traceMask    int64
	traceMaskSet bool
	// wordConns are the connections answering a four-letter word: Apache
	// lists them in stat and cons with no interest ops. Guarded by mu.
	wordConns map[*conn]struct{}
}

func (s *stats) recordLatency(ms int64) {
	s.mu.Lock()
	if s.latCount == 0 || ms < s.latMin {
		s.latMin = ms
	}
	if ms > s.latMax {
		s.latMax = ms
	}
	s.latTotal += ms
	s.latCount++
	s.mu.Unlock()
}

// latency returns the request latency summary in ms. avg is rounded to four
// decimals half-up, as Apache's AvgMinMaxCounter.getAvg does.
func (s *stats) latency() (min int64, avg float64, max int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latCount == 0 {
		return 0, 0, 0
	}
	return s.latMin, roundHalfUp4(float64(s.latTotal) / float64(s.latCount)), s.latMax
}

// roundHalfUp4 rounds the exact binary value of v (v >= 0) to four decimals,
// ties away from zero, like Java's BigDecimal(v).setScale(4, HALF_UP).
func roundHalfUp4(v float64) float64 {
	r := new(big.Rat).SetFloat64(v)
	if r == nil {
		return v
	}
	r.Mul(r, big.NewRat(10000, 1))
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // floor: r is not negative
	out, _ := new(big.Rat).SetFrac(q, big.NewInt(10000)).Float64()
	return out
}

func (s *stats) reset() {
	s.received.Store(0)
	s.sent.Store(0)
	s.mu.Lock()
	s.latMin, s.latMax, s.latTotal, s.latCount = 0, 0, 0, 0
	s.mu.Unlock()
}

// getTraceMask returns the mask gtmk reports.
func (s *stats) getTraceMask() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.traceMaskSet {
		return defaultTraceMask
	}
	return s.traceMask
}

// setTraceMask records the mask of an stmk.
func (s *stats) setTraceMask(m int64) {
	s.mu.Lock()
	s.traceMask, s.traceMaskSet = m, true
	s.mu.Unlock()
}

// addWordConn marks c as answering a four-letter word (remove undoes it).
func (s *stats) addWordConn(c *conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.wordConns, c)
		return
	}
	if s.wordConns == nil {
		s.wordConns = make(map[*conn]struct{})
	}
	s.wordConns[c] = struct{}{}
}

func (s *stats) isWordConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.wordConns[c]
	return ok
}

// Apache ZooKeeper 3.8's metrics (ServerMetrics), in the order they are
// registered: mntr prints every one of them, so monitoring agents that expect
// the standard key list find it. zkgo does not measure these internals of
// Apache's request pipeline; they are reported as zero.
var (
	// apacheCounters are SimpleCounters: one "zk_<name>" line each.
	apacheCounters = []string{
		"looking_count", "diff_count", "snap_count", "commit_count", "connection_request_count",
		"connection_rejected", "bytes_received_count", "unrecoverable_error_count",
		"add_dead_watcher_stall_time", "dead_watchers_queued", "dead_watchers_cleared",
		"response_packet_cache_hits", "response_packet_cache_misses",
		"response_packet_get_children_cache_hits", "response_packet_get_children_cache_misses",
		"ensemble_auth_success", "ensemble_auth_fail", "ensemble_auth_skip",
		"prep_processor_request_queued", "outstanding_changes_queued", "outstanding_changes_removed",
		"revalidate_count", "connection_drop_count", "connection_revalidate_count",
		"sessionless_connections_expired", "stale_sessions_expired", "request_commit_queued",
		"throttled_ops", "learner_proposal_received_count", "learner_commit_received_count",
		"sync_processor_request_queued", "proposal_count", "quit_leading_due_to_disloyal_voter",
		"stale_requests", "stale_requests_dropped", "stale_replies", "request_throttle_wait_count",
		"large_requests_rejected", "digest_mismatches_count", "unsuccessful_handshake",
		"insecure_admin_count", "tls_handshake_exceeded", "cnxn_closed_without_zk_server_running",
		"skip_learner_request_to_next_processor_count", "requests_not_forwarded_to_commit_processor",
		"response_bytes", "watch_bytes",
	}
	// apacheBasicSummaries are AvgMinMaxCounters: avg_, min_, max_, cnt_ and
	// sum_ lines each.
	apacheBasicSummaries = []string{
		"fsynctime", "snapshottime", "dbinittime", "follower_sync_time", "observer_sync_time",
		"election_time", "connection_token_deficit", "inflight_snap_count", "inflight_diff_count",
		"node_created_watch_count", "node_deleted_watch_count", "node_changed_watch_count",
		"node_children_watch_count", "prep_processor_queue_size", "prep_process_time",
		"proposal_process_time", "unavailable_time", "leader_unavailable_time",
		"requests_in_session_queue", "pending_session_queue_size", "reads_after_write_in_session_queue",
		"reads_issued_from_session_queue", "session_queues_drained",
		"time_waiting_empty_pool_in_commit_processor_read_ms", "write_batch_time_in_commit_processor",
		"concurrent_request_processing_in_commit_processor", "read_commit_proc_req_queued",
		"write_commit_proc_req_queued", "commit_commit_proc_req_queued", "read_commit_proc_issued",
		"write_commit_proc_issued", "commit_process_time", "startup_txns_loaded",
		"startup_txns_load_time", "startup_snap_load_time", "sync_processor_queue_size",
		"sync_process_time", "sync_processor_batch_size", "netty_queued_buffer_capacity",
		"learner_request_processor_queue_size", "socket_closing_time",
	}
	// apacheSummaries are AvgMinMaxPercentileCounters: the basic five lines
	// plus p50_, p95_, p99_ and p999_.
	apacheSummaries = []string{
		"readlatency", "updatelatency", "propagation_latency", "dead_watchers_cleaner_latency",
		"prep_processor_queue_time_ms", "close_session_prep_time", "read_commitproc_time_ms",
		"write_commitproc_time_ms", "local_write_committed_time_ms", "server_write_committed_time_ms",
		"om_proposal_process_time_ms", "om_commit_process_time_ms", "read_final_proc_time_ms",
		"write_final_proc_time_ms", "proposal_latency", "proposal_ack_creation_latency",
		"commit_propagation_latency", "sync_processor_queue_and_flush_time_ms",
		"sync_processor_queue_time_ms", "sync_processor_queue_flush_time_ms", "quorum_ack_latency",
		"request_throttle_queue_time_ms", "jvm_pause_time_ms",
	}
)
