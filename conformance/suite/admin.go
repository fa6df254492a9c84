package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// adminJSON sends a JSON request to the admin API and decodes the answer.
func adminJSON(ctx context.Context, adminURL, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, adminURL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("admin %s %s: status %d: %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("admin %s %s: decode %q: %w", method, path, data, err)
		}
	}
	return nil
}

// ruleResponse is the admin API's RuleResponse (the fields used here).
type ruleResponse struct {
	Pattern string `json:"pattern"`
	Version int    `json:"version"`
}

// upsertConcurrencyRule installs a limits rule capping the concurrency of
// the invocations matching pattern (PUT /limits/rules).
func upsertConcurrencyRule(ctx context.Context, e *Env, pattern string, concurrency int) (ruleResponse, error) {
	var out []ruleResponse
	in := []map[string]any{{"pattern": pattern, "limits": map[string]any{"concurrency": concurrency}}}
	if err := adminJSON(ctx, e.Runtime.AdminURL(), http.MethodPut, "/limits/rules", in, &out); err != nil {
		return ruleResponse{}, err
	}
	if len(out) != 1 {
		return ruleResponse{}, fmt.Errorf("upsert rule: got %d rules back, want 1", len(out))
	}
	return out[0], nil
}

// bulkDeleteRules deletes rules by pattern (POST /limits/rules/bulk-delete).
func bulkDeleteRules(ctx context.Context, e *Env, patterns ...string) error {
	in := make([]map[string]any, len(patterns))
	for i, p := range patterns {
		in[i] = map[string]any{"pattern": p}
	}
	return adminJSON(ctx, e.Runtime.AdminURL(), http.MethodPost, "/limits/rules/bulk-delete", in, nil)
}

// partitionState is one row of the internal partition_state table.
type partitionState struct {
	PartitionID            int64  `json:"partition_id"`
	PlainNodeID            string `json:"plain_node_id"`
	AppliedRuleBookVersion *int64 `json:"applied_rule_book_version"`
}

// partitionStates reads partition_state with restatectl: the table is not
// exposed on the admin /query endpoint.
func partitionStates(ctx context.Context, e *Env) ([]partitionState, error) {
	cmd := exec.CommandContext(ctx, e.Binaries.Ctl, "--address", e.Runtime.NodeAddress(), "sql", "--json",
		"SELECT partition_id, plain_node_id, applied_rule_book_version FROM partition_state")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("restatectl sql: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	out := bytes.TrimSpace(stdout.Bytes())
	if len(out) == 0 {
		return nil, nil
	}
	var rows []partitionState
	if err := json.Unmarshal(out, &rows); err != nil {
		return nil, fmt.Errorf("decode restatectl output %q: %w", out, err)
	}
	return rows, nil
}

// awaitRuleBookApplied waits (up to 30 s) until every partition processor
// has applied at least the given rule book version.
func awaitRuleBookApplied(ctx context.Context, e *Env, version int) error {
	alias := fmt.Sprintf("partition_state.applied_rule_book_version >= %d on all partitions", version)
	return Eventually(ctx, alias, 30*time.Second, func(ctx context.Context) error {
		rows, err := partitionStates(ctx, e)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return fmt.Errorf("partition_state is empty")
		}
		for _, r := range rows {
			if r.AppliedRuleBookVersion == nil || *r.AppliedRuleBookVersion < int64(version) {
				return fmt.Errorf("partition %d on node %s has not applied rule-book version %d yet (currently %v)",
					r.PartitionID, r.PlainNodeID, version, r.AppliedRuleBookVersion)
			}
		}
		return nil
	})
}

// invocationsWhere returns the ids of sys_invocation rows matching filter.
func invocationsWhere(ctx context.Context, e *Env, filter string) ([]string, error) {
	rows, err := e.Runtime.Query(ctx, "SELECT id, status FROM sys_invocation WHERE "+filter)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		id, _ := r["id"].(string)
		ids = append(ids, id)
	}
	return ids, nil
}
