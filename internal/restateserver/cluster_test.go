package restateserver

import (
	"maps"
	"testing"
)

func TestClusterTables(t *testing.T) {
	nodes := []byte(`Node Configuration (v12)
 NODE  GEN  NAME  ADDRESS                  ROLES
 N1    2    n1    http://127.0.0.1:33295/  admin | http-ingress | log-server | metadata-server | worker
 N2    1    n2    http://127.0.0.1:38369/  admin | http-ingress | log-server | metadata-server | worker
`)
	if n := joinedNodes(nodes); n != 2 {
		t.Errorf("joinedNodes = %d, want 2", n)
	}
	parts := []byte(`Alive partition processors (nodes config v12, partition table v1)
 ID  NODE  MODE      STATUS  EPOCH  APPLIED  DURABLE  ARCHIVED  LSN-LAG  SCHEMA  RULE-BOOK  FEATURES    UPDATED
 0   N1:2  Leader    Active  e2     2        0        -         0        v0      -          journal_v2  543 ms ago
 0   N3:1  Follower  Active  e2     2        0        -         0        v0      -          journal_v2  687 ms ago
 1   N1:2  Follower  Active  e3     3        0        -         0        v0      -          journal_v2  535 ms ago
 1   N2:1  Leader    Starting  e3     3        0        -         0        v0      -          journal_v2  766 ms ago
 2   N2:1  Follower  Active  e2     2        0        -         0        v0      -          journal_v2  836 ms ago
`)
	ok, total, missing := partitionsLed(parts)
	if ok || total != 3 || len(missing) != 2 || missing[0] != "1" || missing[1] != "2" {
		t.Errorf("partitionsLed = %v, %d, %v; want false, 3, [1 2]", ok, total, missing)
	}
	led := []byte(`Alive partition processors (nodes config v12, partition table v1)
 ID  NODE  MODE      STATUS  EPOCH
 0   N1:2  Follower  Active  e2
 0   N3:1  Leader    Active  e2
`)
	if ok, total, missing := partitionsLed(led); !ok || total != 1 || len(missing) != 0 {
		t.Errorf("partitionsLed = %v, %d, %v; want true, 1, []", ok, total, missing)
	}
	if got, want := leaderCounts(parts), map[int]int{0: 1}; !maps.Equal(got, want) {
		t.Errorf("leaderCounts = %v, want %v (a starting leader does not count)", got, want)
	}
	if got, want := leaderCounts(led), map[int]int{2: 1}; !maps.Equal(got, want) {
		t.Errorf("leaderCounts = %v, want %v", got, want)
	}
	if ok, _, _ := partitionsLed(nil); ok {
		t.Error("partitionsLed of no output = true")
	}
}
