package restateserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// partitionsReadyTimeout bounds the wait for the partition processors of a
// fresh runtime.
const partitionsReadyTimeout = 60 * time.Second

// waitPartitionsReady waits until every partition processor leads and is
// active, as `restatectl partitions list` shows them. The runtime's health
// endpoints answer before that: on a loaded machine its 24 partitions take
// up to 15 s more to elect their leaders, and invocations that land on a
// partition still starting wait for it, long enough to time out a test's
// checks. Without restatectl it returns at once.
func (s *Server) waitPartitionsReady(ctx context.Context) error {
	if s.ctl == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, partitionsReadyTimeout)
	defer cancel()
	var last string
	for {
		out, err := exec.CommandContext(ctx, s.ctl, "--address", s.NodeAddress(), "partitions", "list").CombinedOutput()
		if err == nil {
			ready, total, notReady := partitionsReady(out)
			if ready {
				return nil
			}
			last = fmt.Sprintf("%d partitions listed, not ready: %v", total, notReady)
		} else {
			last = fmt.Sprintf("restatectl partitions list: %v: %s", err, bytes.TrimSpace(out))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restateserver: partitions not ready after %s: %s", partitionsReadyTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// partitionRow is one row of `restatectl partitions list`: one partition
// processor (a replica of partition ID on node NODE).
type partitionRow struct {
	id, node, mode, status string
}

// partitionRows parses the table of `restatectl partitions list`, locating
// the columns by the header row; rows before a header or too short for it
// are skipped, so unrelated output yields no rows.
func partitionRows(out []byte) []partitionRow {
	sc := bufio.NewScanner(bytes.NewReader(out))
	nodeCol, modeCol, statusCol := -1, -1, -1
	var rows []partitionRow
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "ID" {
			for i, f := range fields {
				switch f {
				case "NODE":
					nodeCol = i
				case "MODE":
					modeCol = i
				case "STATUS":
					statusCol = i
				}
			}
			continue
		}
		if nodeCol < 0 || modeCol < 0 || statusCol < 0 || len(fields) <= max(nodeCol, modeCol, statusCol) {
			continue
		}
		rows = append(rows, partitionRow{id: fields[0], node: fields[nodeCol], mode: fields[modeCol], status: fields[statusCol]})
	}
	return rows
}

// active reports whether the row is a leader that is active.
func (r partitionRow) active() bool { return r.mode == "Leader" && r.status == "Active" }

// partitionsReady parses the table of `restatectl partitions list` of a
// single server: the partitions are ready when at least one is listed and
// every one is in mode Leader with status Active. It returns the ids of
// those that are not.
func partitionsReady(out []byte) (ready bool, total int, notReady []string) {
	rows := partitionRows(out)
	for _, r := range rows {
		if !r.active() {
			notReady = append(notReady, r.id)
		}
	}
	return len(rows) > 0 && len(notReady) == 0, len(rows), notReady
}
