package restatetest

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/wire"
)

// The columns of the tables [Env.AdminHandler] can query, named as in
// restate-server.
var (
	invocationColumns = []string{"id", "target", "target_service_name", "target_service_key", "target_handler_name",
		"target_service_ty", "idempotency_key", "status", "completion_result", "completion_failure", "invoked_by",
		"invoked_by_id", "retry_count", "last_failure", "journal_size", "created_at", "modified_at", "completed_at"}
	stateColumns = []string{"service_name", "service_key", "key", "value_utf8", "value_length"}
)

var (
	selectRe    = regexp.MustCompile(`(?is)^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER\s+BY\s+(\w+)(?:\s+(ASC|DESC))?)?(?:\s+LIMIT\s+(\d+))?\s*;?\s*$`)
	conditionRe = regexp.MustCompile(`(?is)^\s*(\w+)\s*=\s*'((?:[^']|'')*)'\s*(?:AND\s+|$)`)
)

// query runs a small subset of SQL over the invocations and the state.
func (e *Env) query(q string) ([]map[string]any, error) {
	m := selectRe.FindStringSubmatch(q)
	if m == nil {
		return nil, fmt.Errorf("restatetest: unsupported query %q: only SELECT columns FROM sys_invocation|state [WHERE column = 'value' AND …] [ORDER BY column [ASC|DESC]] [LIMIT n]", q)
	}
	table := strings.ToLower(m[2])
	var columns []string
	var rows []map[string]any
	e.mu.Lock()
	switch table {
	case "sys_invocation":
		columns = invocationColumns
		for _, r := range e.order {
			if !r.purged {
				rows = append(rows, e.invocationRow(r))
			}
		}
	case "state":
		columns = stateColumns
		for _, k := range slices.SortedFunc(maps.Keys(e.objects), func(a, b objectKey) int {
			return cmp.Or(strings.Compare(a.service, b.service), strings.Compare(a.key, b.key))
		}) {
			o := e.objects[k]
			for _, name := range slices.Sorted(maps.Keys(o.state)) {
				v := o.state[name]
				rows = append(rows, map[string]any{"service_name": k.service, "service_key": k.key, "key": name,
					"value_utf8": string(v), "value_length": len(v)})
			}
		}
	default:
		e.mu.Unlock()
		return nil, fmt.Errorf("restatetest: unknown table %q: the tables are sys_invocation and state", m[2])
	}
	e.mu.Unlock()
	known := func(c string) error {
		if !slices.Contains(columns, c) {
			return fmt.Errorf("restatetest: table %s has no column %q; it has %s", table, c, strings.Join(columns, ", "))
		}
		return nil
	}
	if where := m[3]; where != "" {
		for where != "" {
			c := conditionRe.FindStringSubmatch(where)
			if c == nil {
				return nil, fmt.Errorf("restatetest: unsupported condition %q: only column = 'value' joined with AND", where)
			}
			where = where[len(c[0]):]
			col, val := strings.ToLower(c[1]), strings.ReplaceAll(c[2], "''", "'")
			if err := known(col); err != nil {
				return nil, err
			}
			rows = slices.DeleteFunc(rows, func(row map[string]any) bool { return fmt.Sprint(row[col]) != val })
		}
	}
	if col := strings.ToLower(m[4]); col != "" {
		if err := known(col); err != nil {
			return nil, err
		}
		desc := strings.EqualFold(m[5], "DESC")
		if desc {
			// Rows are in creation order: ties (invocations created in the
			// same millisecond) then come out newest first, as on
			// restate-server.
			slices.Reverse(rows)
		}
		slices.SortStableFunc(rows, func(a, b map[string]any) int {
			c := compareValues(a[col], b[col])
			if desc {
				return -c
			}
			return c
		})
	}
	if m[6] != "" {
		n, _ := strconv.Atoi(m[6])
		rows = rows[:min(n, len(rows))]
	}
	if sel := strings.TrimSpace(m[1]); sel != "*" {
		var cols []string
		for _, c := range strings.Split(sel, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if err := known(c); err != nil {
				return nil, err
			}
			cols = append(cols, c)
		}
		for i, row := range rows {
			out := make(map[string]any, len(cols))
			for _, c := range cols {
				out[c] = row[c]
			}
			rows[i] = out
		}
	}
	return rows, nil
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case int:
		if y, ok := b.(int); ok {
			return cmp.Compare(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	}
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// invocationRow is r as a row of restate-server's sys_invocation table.
// Absent values are nil, as the server's nulls.
func (e *Env) invocationRow(r *record) map[string]any {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	modified := r.createdAt
	for _, t := range []time.Time{r.lastStored, r.completedAt} {
		if t.After(modified) {
			modified = t
		}
	}
	row := map[string]any{
		"id": r.id, "target": r.target(), "target_service_name": r.svc.Name, "target_service_key": nil,
		"target_handler_name": r.h.Name, "target_service_ty": serviceType(r), "idempotency_key": nil,
		"status": r.status.String(), "completion_result": nil, "completion_failure": nil, "invoked_by": "ingress",
		"invoked_by_id": nil, "retry_count": 0, "last_failure": nil, "journal_size": len(r.journal),
		"created_at": ts(r.createdAt), "modified_at": ts(modified), "completed_at": nil,
	}
	if r.key != "" {
		row["target_service_key"] = r.key
	}
	if r.idem != "" {
		row["idempotency_key"] = r.idem
	}
	if r.caller != nil {
		row["invoked_by"], row["invoked_by_id"] = "service", r.caller.id
	}
	if r.status != statusCompleted {
		// The server forgets the failures of an invocation once it
		// completed.
		row["retry_count"] = r.failures
		if r.lastFailure != "" {
			row["last_failure"] = r.lastFailure
		}
	}
	if r.status == statusCompleted {
		row["completed_at"] = ts(r.completedAt)
		row["completion_result"] = "success"
		if r.result.Kind == wire.ResultFailure {
			row["completion_result"] = "failure"
			row["completion_failure"] = fmt.Sprintf("[%d] %s", r.result.Failure.Code, r.result.Failure.Message)
		}
	}
	return row
}

func serviceType(r *record) string {
	switch r.svc.Kind {
	case endpoint.KindVirtualObject:
		return "virtual_object"
	case endpoint.KindWorkflow:
		return "workflow"
	}
	return "service"
}
