package suite

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// serviceToServiceScopeConcurrencyClass ports
// ServiceToServiceScopeConcurrency: the scope and limit key an SDK sets on
// a service-to-service call reach the runtime, so that a concurrency rule
// for "scope/limitKey" limits the invocations it issues.
//
// The Kotlin test hosts the scoped target (BlockingProxy.block, calling a
// Blocker object that waits on an awakeable) in the test JVM with the Java
// SDK. This port has no SDK of its own, so the same shape is built from the
// test-services: the scoped target is Proxy.call (a plain service, as
// scope requires) forwarding to VirtualObjectCommandInterpreter/<key>,
// whose interpretCommands awaits an awakeable ("Blocker.run"); hasAwakeable,
// resolveAwakeable and getResults play Blocker.getAwakeable,
// resolveAwakeable and getResult. The in-process concurrency bound of the
// original is replaced by sampling sys_invocation for running scoped
// invocations during the whole run and by checking that no more than limit
// blockers ever hold an unresolved awakeable at once. Both options are also
// checked directly on the scoped invocations (sys_invocation scope and
// limit_key).
//
// In request-response mode the scoped Proxy.call suspends while it waits,
// and the runtime releases the concurrency slot of a suspended invocation:
// the "exactly limit running" and "at most limit holding" checks only hold
// in bidi mode (the Kotlin target always runs bidi in the JVM). In
// request-response mode the test checks the propagated scope and limit key,
// that running scoped invocations never exceed the limit, and that every
// blocker completes, and it says so in its log.
func serviceToServiceScopeConcurrencyClass() *Class {
	return &Class{
		Name:     ServiceToServiceScopeConcurrency,
		Services: []string{svcProxy, svcInterpreter},
		RuntimeEnv: map[string]string{
			// Scoped invocations and the rule book need vqueues.
			"RESTATE_EXPERIMENTAL_ENABLE_VQUEUES": "true",
			// Scope and limit key on service-to-service calls need protocol v7.
			envProtocolV7: "true",
			// Rule book activation latency.
			"RESTATE_WORKER__RULE_BOOK_POLL_INTERVAL": "1s",
		},
		Tests: []Test{{
			Name:    "scopeAndLimitKeyArePropagatedOnServiceToServiceCalls",
			Timeout: 120 * time.Second,
			Run:     scopeAndLimitKeyArePropagated,
		}},
	}
}

func scopeAndLimitKeyArePropagated(ctx context.Context, e *Env) error {
	runID := NewUUID()[:8]
	scope := "s2s-scope-" + runID
	limitKey := "s2s-limitkey-" + runID
	// The rule matches the "scope/limitKey" identity: it only applies if
	// both options are propagated.
	rulePattern := scope + "/" + limitKey
	const limit, invocationCount = 2, 4
	blockerKeys := make([]string, invocationCount)
	for i := range blockerKeys {
		blockerKeys[i] = fmt.Sprintf("blocker-%s-%d", runID, i)
	}

	rule, err := upsertConcurrencyRule(ctx, e, rulePattern, limit)
	if err != nil {
		return err
	}
	if err := awaitRuleBookApplied(ctx, e, rule.Version); err != nil {
		return err
	}

	runningScopedFilter := fmt.Sprintf("target_service_name = '%s' AND scope = '%s' AND status = 'running'", svcProxy, scope)
	sampler := startRunningSampler(ctx, e, runningScopedFilter)
	defer sampler.stop()

	blockCommands := JSONBytes(interpretRequest(awaitOne(createAwakeable("awk"))))
	var calls []manyCallRequest
	for _, key := range blockerKeys {
		calls = append(calls, manyCallRequest{
			// Outer, scoped call to the plain service Proxy ("BlockingProxy.block").
			ProxyRequest: proxyRequest{
				ServiceName: svcProxy,
				HandlerName: "call",
				Message: JSONBytes(proxyRequest{
					ServiceName:      svcInterpreter,
					VirtualObjectKey: key,
					HandlerName:      "interpretCommands",
					Message:          blockCommands,
				}),
				Scope:    scope,
				LimitKey: limitKey,
			},
			OneWayCall:    true,
			AwaitAtTheEnd: false,
		})
	}
	if _, err := e.Ingress.Call(ctx, ServiceTarget(svcProxy, "manyCalls"), calls, Idempotent()); err != nil {
		return fmt.Errorf("Proxy.manyCalls: %w", err)
	}

	// Both options reached the runtime.
	propagatedFilter := fmt.Sprintf("target = '%s/call' AND scope = '%s' AND limit_key = '%s'", svcProxy, scope, limitKey)
	err = Eventually(ctx, fmt.Sprintf("%d invocations carry scope and limit key", invocationCount), 0, func(ctx context.Context) error {
		ids, err := invocationsWhere(ctx, e, propagatedFilter)
		if err != nil {
			return err
		}
		return expect(len(ids) == invocationCount, "%d invocations with scope %s and limit key %s %v, want %d",
			len(ids), scope, limitKey, ids, invocationCount)
	})
	if err != nil {
		return err
	}

	bidi := e.Mode == ModeBidi
	if bidi {
		// The rule holds the running scoped invocations at exactly limit.
		err = Eventually(ctx, fmt.Sprintf("exactly %d scoped invocations are running", limit), 0, func(ctx context.Context) error {
			ids, err := invocationsWhere(ctx, e, runningScopedFilter)
			if err != nil {
				return err
			}
			return expect(len(ids) == limit, "%d running scoped invocations %v, want %d", len(ids), ids, limit)
		})
		if err != nil {
			return err
		}
	} else {
		e.Logf("%s mode: suspended invocations release their concurrency slot; "+
			"not checking that exactly %d run and at most %d hold an awakeable", e.Mode, limit, limit)
	}

	// Resolve one awakeable at a time; each resolution lets a held scoped
	// invocation run and register its blocker's awakeable.
	unresolved := slices.Clone(blockerKeys)
	maxHolding := 0
	for range invocationCount {
		var activeKey string
		err := Eventually(ctx, "find a blocker (among unresolved keys) that has registered its awakeable", 0, func(ctx context.Context) error {
			var holding []string
			for _, key := range unresolved {
				has, err := Call[bool](ctx, e.Ingress, ObjectTarget(svcInterpreter, key, "hasAwakeable"), "awk", Idempotent())
				if err != nil {
					return err
				}
				if has {
					holding = append(holding, key)
				}
			}
			maxHolding = max(maxHolding, len(holding))
			if len(holding) == 0 {
				return fmt.Errorf("no blocker among %v has registered its awakeable", unresolved)
			}
			activeKey = holding[0]
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := e.Ingress.Call(ctx, ObjectTarget(svcInterpreter, activeKey, "resolveAwakeable"),
			command{"awakeableKey": "awk", "value": "done"}, Idempotent()); err != nil {
			return fmt.Errorf("resolveAwakeable(%s): %w", activeKey, err)
		}
		unresolved = slices.DeleteFunc(unresolved, func(k string) bool { return k == activeKey })
	}

	// Every blocker eventually completes with the resolved value; since the
	// scoped Proxy.call awaits it, this also means the scoped invocation ran.
	for _, key := range blockerKeys {
		err := Eventually(ctx, "blocker "+key+" completed", 0, func(ctx context.Context) error {
			results, err := Call[[]string](ctx, e.Ingress, ObjectTarget(svcInterpreter, key, "getResults"), nil, Idempotent())
			if err != nil {
				return err
			}
			return expectEqual("results of "+key, results, []string{"done"})
		})
		if err != nil {
			return err
		}
	}

	// The limit must hold for the whole run.
	if maxSampled, samples := sampler.stop(); maxSampled > limit {
		return fmt.Errorf("max concurrently running scoped invocations = %d over %d samples, want <= %d", maxSampled, samples, limit)
	}
	if bidi && maxHolding > limit {
		return fmt.Errorf("max blockers holding an unresolved awakeable at once = %d, want <= %d", maxHolding, limit)
	}
	return bulkDeleteRules(ctx, e, rulePattern)
}

// runningSampler polls sys_invocation for the number of invocations
// matching a filter and keeps the maximum.
type runningSampler struct {
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	max     int
	samples int
}

func startRunningSampler(ctx context.Context, e *Env, filter string) *runningSampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &runningSampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			if ids, err := invocationsWhere(ctx, e, filter); err == nil {
				s.samples++
				s.max = max(s.max, len(ids))
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the maximum and the sample count.
func (s *runningSampler) stop() (int, int) {
	s.once.Do(func() {
		s.cancel()
		<-s.done
	})
	return s.max, s.samples
}
