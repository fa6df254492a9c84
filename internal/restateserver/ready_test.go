package restateserver

import (
	"slices"
	"testing"
)

func TestPartitionsReady(t *testing.T) {
	const starting = `Alive partition processors (nodes config v4, partition table v1)
 ID  NODE  MODE                    STATUS    EPOCH  APPLIED  DURABLE  ARCHIVED  LSN-LAG  SCHEMA  RULE-BOOK  FEATURES    UPDATED
 0   N1:2  Follower->Leader        Starting  -      -        -        -         -        -       -          -           2 seconds and 119 ms ago
 1   N1:2  BecomingLeader->Leader  Active    e2     1        0        -         -        v0      -          -           1 second and 548 ms ago
 2   N1:2  Leader                  Active    e2     2        0        -         -        v0      -          journal_v2  1 second and 568 ms ago
`
	const ready = `Alive partition processors (nodes config v4, partition table v1)
 ID  NODE  MODE    STATUS  EPOCH  APPLIED  DURABLE  ARCHIVED  LSN-LAG  SCHEMA  RULE-BOOK  FEATURES    UPDATED
 0   N1:2  Leader  Active  e2     2        0        -         0        v0      -          journal_v2  750 ms ago
 1   N1:2  Leader  Active  e2     2        0        -         0        v0      -          journal_v2  1 second and 164 ms ago
`
	const empty = `Alive partition processors (nodes config v0, partition table v0)
 ID  NODE  MODE  STATUS  EPOCH  APPLIED  DURABLE  ARCHIVED  LSN-LAG  SCHEMA  RULE-BOOK  FEATURES  UPDATED
`
	for _, tc := range []struct {
		name     string
		out      string
		ready    bool
		total    int
		notReady []string
	}{
		{"starting", starting, false, 3, []string{"0", "1"}},
		{"ready", ready, true, 2, nil},
		{"empty", empty, false, 0, nil},
		{"garbage", "error: connection refused", false, 0, nil},
	} {
		r, n, nr := partitionsReady([]byte(tc.out))
		if r != tc.ready || n != tc.total || !slices.Equal(nr, tc.notReady) {
			t.Errorf("%s: partitionsReady = %v, %d, %v; want %v, %d, %v", tc.name, r, n, nr, tc.ready, tc.total, tc.notReady)
		}
	}
}
