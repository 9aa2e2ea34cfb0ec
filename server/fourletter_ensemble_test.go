package server_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/zktest"
)

// TestFourLetterEnsembleDifferential compares the words a leader and a
// follower answer on a 3-server Apache ensemble and on a 3-server zkgo one.
func TestFourLetterEnsembleDifferential(t *testing.T) {
	ae := apachezk.StartEnsemble(t, apachezk.EnsembleOptions{Voters: 3})
	ze := zktest.StartEnsemble(t, 3)
	apacheLeader := ae.Leader()
	zkgoLeader := ze.Leader()
	if apacheLeader < 0 || zkgoLeader < 0 {
		t.Fatalf("leaders: Apache %d, zkgo %d", apacheLeader, zkgoLeader)
	}
	roles := []struct {
		name         string
		apache, zkgo string
	}{
		{"leader", ae.Addr(apacheLeader), ze.Server(zkgoLeader).Addr()},
		{"follower", ae.Addr((apacheLeader + 1) % 3), ze.Server((zkgoLeader + 1) % 3).Addr()},
	}
	mode := regexp.MustCompile(`(?m)^Mode: .*$`)
	wordClients(t, roles[0].apache)
	wordClients(t, roles[0].zkgo)
	for _, r := range roles {
		for _, word := range []string{"srvr", "stat"} {
			a, z := askWord(t, r.apache, word, nil), askWord(t, r.zkgo, word, nil)
			sameLineSet(t, r.name+" "+word, a, z)
			if am, zm := mode.FindString(a), mode.FindString(z); am != zm || am != "Mode: "+r.name {
				t.Errorf("%s %s: Apache %q, zkgo %q", r.name, word, am, zm)
			}
		}
		sameMntrKeys(t, r.name+" mntr", askWord(t, r.apache, "mntr", nil), askWord(t, r.zkgo, "mntr", nil))
		sameKeys(t, r.name+" conf", askWord(t, r.apache, "conf", nil), askWord(t, r.zkgo, "conf", nil))
	}
}

// sameMntrKeys compares mntr's keys and order (less Apache's per-namespace
// summaries) and the role keys' values.
func sameMntrKeys(t *testing.T, label, apache, zkgo string) {
	t.Helper()
	ak, av := parseMntr(t, apache)
	zkeys, zv := parseMntr(t, zkgo)
	// Per-learner keys carry the learner's server id, which differs when
	// the two ensembles elected different leaders.
	sid := regexp.MustCompile(`_\d+_learner_`)
	var kept []string
	for _, k := range ak {
		if !strings.HasSuffix(k, "_per_namespace") {
			kept = append(kept, sid.ReplaceAllString(k, "_N_learner_"))
		}
	}
	for i, k := range zkeys {
		zkeys[i] = sid.ReplaceAllString(k, "_N_learner_")
	}
	if strings.Join(kept, "\n") != strings.Join(zkeys, "\n") {
		t.Errorf("%s: keys differ\nApache:\n%s\nzkgo:\n%s", label, strings.Join(kept, "\n"), strings.Join(zkeys, "\n"))
	}
	for _, k := range []string{"zk_server_state", "zk_peer_state", "zk_quorum_size", "zk_learners", "zk_synced_followers",
		"zk_synced_non_voting_followers", "zk_synced_observers", "zk_pending_syncs"} {
		if av[k] != zv[k] {
			t.Errorf("%s: %s is %q on Apache, %q on zkgo", label, k, av[k], zv[k])
		}
	}
}
