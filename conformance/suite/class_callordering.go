package suite

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// callOrderingClass ports CallOrdering: ordering between calls and one-way
// calls issued by Proxy.manyCalls to the same object.
func callOrderingClass() *Class {
	// To enforce ordering with respect to the final ListObject.clear, the
	// last call must be a request-response one.
	orderings := [][]bool{
		{true, false, false},
		{false, true, false},
		{true, true, false},
	}
	c := &Class{Name: CallOrdering, Services: []string{svcProxy, svcListObject}}
	for _, ordering := range orderings {
		parts := make([]string, len(ordering))
		for i, b := range ordering {
			parts[i] = strconv.FormatBool(b)
		}
		c.Tests = append(c.Tests, Test{
			Name:       "ordering/" + strings.Join(parts, ","),
			Concurrent: true,
			Run:        func(ctx context.Context, e *Env) error { return callOrdering(ctx, e, ordering) },
		})
	}
	return c
}

func callOrdering(ctx context.Context, e *Env, ordering []bool) error {
	listName := NewUUID()
	var reqs []manyCallRequest
	for i, executeAsBackgroundCall := range ordering {
		pr := proxyRequest{
			ServiceName:      svcListObject,
			VirtualObjectKey: listName,
			HandlerName:      "append",
			Message:          JSONBytes(strconv.Itoa(i)),
		}
		if executeAsBackgroundCall {
			reqs = append(reqs, manyCallRequest{ProxyRequest: pr, OneWayCall: true, AwaitAtTheEnd: false})
		} else {
			reqs = append(reqs, manyCallRequest{ProxyRequest: pr, OneWayCall: false, AwaitAtTheEnd: true})
		}
	}
	if _, err := e.Ingress.Call(ctx, ServiceTarget(svcProxy, "manyCalls"), reqs, Idempotent()); err != nil {
		return fmt.Errorf("Proxy.manyCalls: %w", err)
	}
	list, err := Call[[]string](ctx, e.Ingress, ObjectTarget(svcListObject, listName, "clear"), nil, Idempotent())
	if err != nil {
		return fmt.Errorf("ListObject.clear: %w", err)
	}
	return expectEqual("list", list, []string{"0", "1", "2"})
}
