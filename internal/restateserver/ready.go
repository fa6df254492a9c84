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

// partitionsReady parses the table of `restatectl partitions list`: the
// partitions are ready when at least one is listed and every one is in mode
// Leader with status Active. It returns the ids of those that are not.
func partitionsReady(out []byte) (ready bool, total int, notReady []string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	modeCol, statusCol := -1, -1
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "ID" {
			for i, f := range fields {
				switch f {
				case "MODE":
					modeCol = i
				case "STATUS":
					statusCol = i
				}
			}
			continue
		}
		if modeCol < 0 || statusCol < 0 || len(fields) <= max(modeCol, statusCol) {
			continue
		}
		total++
		if fields[modeCol] != "Leader" || fields[statusCol] != "Active" {
			notReady = append(notReady, fields[0])
		}
	}
	return total > 0 && len(notReady) == 0, total, notReady
}
