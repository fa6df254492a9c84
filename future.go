package restate

import (
	"errors"
	"fmt"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Future is the pending result of a durable operation. It is a small value:
// copies share the same result. Await blocks until the result is known;
// awaiting again returns the same result without another round trip.
// Futures can be stored, passed around and combined with [Select], [All],
// [Any], [Race], [AllSettled], [AsCompleted], [WithTimeout] and [Map].
//
// The zero Future is invalid: awaiting it returns an error.
type Future[T any] struct {
	f *future[T]
}

// Selectable is implemented by every future, whatever its result type: it is
// what [Select], [AllSettled] and [AsCompleted] take. It cannot be
// implemented outside this package.
type Selectable interface {
	node() node
}

// node is the untyped view of a future used to build await trees.
type node interface {
	owner() *invocation.Invocation
	// appendTo adds the future to parent as its last child: a handle, a
	// nested combinator, or a settled child when its result is already
	// known. parent.Combinator must be set.
	appendTo(parent *replay.Future)
	// state evaluates the future against the engine, without applying
	// notifications. Called with the engine locked.
	state(m *replay.Machine) replay.FutureState
	// leafHandles returns the handle of a pending leaf as a slice of one
	// that the future owns, or nil.
	leafHandles() []replay.Handle
	// finish caches the result once state is not Pending. Called with the
	// engine locked.
	finish(m *replay.Machine)
	// Resolved finishes the future if it can; see invocation.Resolver.
	Resolved(m *replay.Machine) bool
}

type future[T any] struct {
	inv  *invocation.Invocation
	done bool
	val  T
	err  error

	// A leaf waits for one engine handle and converts its result: with conv
	// when set, otherwise as a value decoded with codec (no closure to
	// allocate for the common case).
	leaf   bool
	handle [1]replay.Handle // an array, so a one-leaf tree needs no allocation
	conv   func(wire.Result) (T, error)
	codec  Codec
	what   string // the operation, for error messages
	name   string // its name, if any

	// A derived future combines children.
	comb     wire.CombinatorType
	children []node
	combine  func(m *replay.Machine) (T, error)
}

// Await blocks until the future's result is known and returns it. If the
// invocation is cancelled while waiting, it returns a terminal error that
// matches [ErrCancelled]; awaiting again waits for the result again.
func (f Future[T]) Await() (T, error) {
	p := f.f
	if p == nil {
		var zero T
		return zero, errors.New("restate: Await on a zero Future")
	}
	if p.done {
		return p.val, p.err
	}
	if err := awaitNode(p); err != nil {
		var zero T
		return zero, err
	}
	return p.val, p.err
}

// awaitNode waits until n resolves and caches its result, or returns the
// cancellation or misuse error of the wait.
func awaitNode(n node) error {
	var tree replay.Future
	if hs := n.leafHandles(); hs != nil {
		tree = replay.Future{Combinator: wire.CombinatorFirstCompleted, Handles: hs}
	} else {
		tree = nodeTree(n)
	}
	var r invocation.Resolver = n
	if tree.Children != nil {
		r = treeResolver{&tree, n}
	}
	status, err := n.owner().Await(tree, r)
	if err != nil {
		return err
	}
	if status == replay.StatusCancelled {
		return cancelledError()
	}
	return nil
}

// treeResolver resolves n when the engine's evaluation of its tree is no
// longer pending: the tree is built once per await instead of once per
// evaluation.
type treeResolver struct {
	tree *replay.Future
	n    node
}

func (r treeResolver) Resolved(m *replay.Machine) bool {
	if m.State(r.tree) == replay.Pending {
		return false
	}
	r.n.finish(m)
	return true
}

// nodeTree returns the engine future of n. It is apart from awaitNode so
// that awaiting a leaf, the common case, does not move the tree to the heap
// (appendTo takes it by pointer, through an interface).
func nodeTree(n node) replay.Future {
	tree := &replay.Future{Combinator: wire.CombinatorFirstCompleted}
	n.appendTo(tree)
	if len(tree.Handles) == 0 && len(tree.Children) == 1 {
		return tree.Children[0]
	}
	return *tree
}

func cancelledError() error { return &TerminalError{Code: 409, Message: "cancelled"} }

// Done reports whether the result is known without waiting: it was awaited
// already, or the journal already holds it.
func (f Future[T]) Done() bool {
	p := f.f
	if p == nil || p.done {
		return p != nil
	}
	done := false
	_ = p.inv.Do(func(m *replay.Machine) error {
		done = p.state(m) != replay.Pending
		return nil
	})
	return done
}

func (f Future[T]) node() node { return f.f }

func (p *future[T]) owner() *invocation.Invocation { return p.inv }

// leafHandles returns the handle of a pending leaf, without allocating.
func (p *future[T]) leafHandles() []replay.Handle {
	if p.leaf && !p.done {
		return p.handle[:]
	}
	return nil
}

// Resolved implements invocation.Resolver.
func (p *future[T]) Resolved(m *replay.Machine) bool {
	if p.state(m) == replay.Pending {
		return false
	}
	p.finish(m)
	return true
}

func (p *future[T]) appendTo(parent *replay.Future) {
	switch {
	case p.done:
		parent.Children = append(parent.Children, replay.Settled(p.state(nil)))
	case p.leaf && len(parent.Children) > 0 && ordered(parent.Combinator):
		// After a nested child, a handle keeps its place: the engine
		// evaluates Handles before Children.
		parent.Children = append(parent.Children, replay.Leaf(p.handle[:]))
	case p.leaf:
		parent.Handles = append(parent.Handles, p.handle[0])
	default:
		parent.Children = append(parent.Children, p.tree())
	}
}

// ordered reports whether the order of children changes the outcome of
// comb: only a first-completed race, when several children are complete,
// takes the first one. The other combinators depend only on how many
// children succeeded, failed or are pending.
func ordered(comb wire.CombinatorType) bool {
	switch comb {
	case wire.CombinatorAllCompleted, wire.CombinatorFirstSucceededOrAllFailed, wire.CombinatorAllSucceededOrFirstFailed:
		return false
	}
	return true
}

// tree returns the engine future of a derived future: its children in
// argument order, those already known as settled children.
func (p *future[T]) tree() replay.Future {
	sub := replay.Future{Combinator: p.comb}
	if len(p.children) == 1 {
		if hs := p.children[0].leafHandles(); hs != nil {
			// Map of a leaf, or a combinator of one: the leaf's own slice.
			sub.Handles = hs
			return sub
		}
	}
	// Size both lists exactly, as appendTo will fill them: a leaf goes to
	// Handles unless it follows a nested child of an ordered combinator.
	handles, nested := 0, 0
	for _, c := range p.children {
		if c.leafHandles() != nil && (nested == 0 || !ordered(p.comb)) {
			handles++
		} else {
			nested++
		}
	}
	if handles > 0 {
		sub.Handles = make([]replay.Handle, 0, handles)
	}
	if nested > 0 {
		sub.Children = make([]replay.Future, 0, nested)
	}
	for _, c := range p.children {
		c.appendTo(&sub)
	}
	return sub
}

func (p *future[T]) state(m *replay.Machine) replay.FutureState {
	if p.done {
		if p.err != nil {
			return replay.Failed
		}
		return replay.Succeeded
	}
	if p.leaf {
		r, ok := m.Peek(p.handle[0])
		switch {
		case !ok:
			return replay.Pending
		case r.Kind == wire.ResultFailure:
			return replay.Failed
		}
		return replay.Succeeded
	}
	// The engine is the one evaluator of combinators: the typed layer asks
	// it about the tree it would await.
	tree := p.tree()
	return m.State(&tree)
}

func (p *future[T]) finish(m *replay.Machine) {
	if p.done || p.state(m) == replay.Pending {
		return
	}
	if p.leaf {
		r, _ := m.Take(p.handle[0])
		if p.conv != nil {
			p.val, p.err = p.conv(r)
		} else {
			p.val, p.err = convertValue[T](r, p.codec, p.describe())
		}
	} else {
		p.val, p.err = p.combine(m)
	}
	p.done = true
}

// newLeaf returns the future of one engine handle.
func newLeaf[T any](inv *invocation.Invocation, h replay.Handle, conv func(wire.Result) (T, error)) Future[T] {
	return Future[T]{&future[T]{inv: inv, leaf: true, handle: [1]replay.Handle{h}, conv: conv}}
}

// failedFuture returns a future that is already resolved with err.
func failedFuture[T any](inv *invocation.Invocation, err error) Future[T] {
	return Future[T]{&future[T]{inv: inv, done: true, err: err}}
}

// newValueLeaf returns the future of a handle whose result is a value
// decoded with c, or a terminal failure. what names the operation in errors.
func newValueLeaf[T any](inv *invocation.Invocation, h replay.Handle, c Codec, what string) Future[T] {
	return Future[T]{&future[T]{inv: inv, leaf: true, handle: [1]replay.Handle{h}, codec: c, what: what}}
}

// newNamedValueLeaf is newValueLeaf for an operation with a name (a run, a
// signal, a promise); the error text is only built when needed.
func newNamedValueLeaf[T any](inv *invocation.Invocation, h replay.Handle, c Codec, what, name string) Future[T] {
	return Future[T]{&future[T]{inv: inv, leaf: true, handle: [1]replay.Handle{h}, codec: c, what: what, name: name}}
}

func (p *future[T]) describe() string {
	if p.name == "" {
		return p.what
	}
	return fmt.Sprintf("%s %q", p.what, p.name)
}

// convertValue converts a value-or-failure result, decoding values with c.
func convertValue[T any](r wire.Result, c Codec, what string) (T, error) {
	var zero T
	switch r.Kind {
	case wire.ResultFailure:
		return zero, terminalFromFailure(r.Failure)
	case wire.ResultVoid:
		return zero, nil
	case wire.ResultValue:
		v, err := decode[T](c, r.Value)
		if err != nil {
			return zero, &TerminalError{Code: 500, Message: fmt.Sprintf("restate: cannot decode the result of %s into %T: %v", what, zero, err), Err: err}
		}
		return v, nil
	}
	return zero, fmt.Errorf("restate: unexpected %s result for %s", r.Kind, what)
}

func voidConv(r wire.Result) (Void, error) {
	if r.Kind == wire.ResultFailure {
		return Void{}, terminalFromFailure(r.Failure)
	}
	return Void{}, nil
}

func invocationIDConv(r wire.Result) (string, error) {
	switch r.Kind {
	case wire.ResultInvocationID:
		return r.InvocationID, nil
	case wire.ResultFailure:
		return "", terminalFromFailure(r.Failure)
	}
	return "", fmt.Errorf("restate: unexpected %s result for an invocation id", r.Kind)
}

// Maybe is a value that may be absent: the result of peeking a promise or
// reading the output of an invocation that may not have completed.
type Maybe[T any] struct {
	Value T
	// Ok is false when there is no value yet.
	Ok bool
}

func maybeConv[T any](c Codec, what string) func(wire.Result) (Maybe[T], error) {
	return func(r wire.Result) (Maybe[T], error) {
		if r.Kind == wire.ResultVoid {
			return Maybe[T]{}, nil
		}
		v, err := convertValue[T](r, c, what)
		if err != nil {
			return Maybe[T]{}, err
		}
		return Maybe[T]{Value: v, Ok: true}, nil
	}
}

// CallFuture is the future of a request-response call: its result, and the
// callee's invocation id.
type CallFuture[T any] struct {
	Future[T]
	id Future[string]
}

// InvocationID returns the callee's invocation id, waiting for the runtime
// to assign it if needed.
func (c CallFuture[T]) InvocationID() (string, error) { return c.id.Await() }

// Invocation is the handle of an invocation started with a one-way call
// (Send): its invocation id.
type Invocation struct {
	id Future[string]
}

// ID returns the invocation id, waiting for the runtime to assign it if
// needed.
func (i Invocation) ID() (string, error) { return i.id.Await() }
