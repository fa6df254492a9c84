package invocation

import (
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// The methods below issue one command each, as [Invocation.Do] does: an
// error that closed the attempt ends the handler, any other is returned for
// the handler to see. The closures they pass do not escape, so issuing a
// command allocates nothing more than the engine does.

// Sleep issues a timer that fires at wake (Unix milliseconds).
func (inv *Invocation) Sleep(wake uint64, name string) (replay.Handle, error) {
	var h replay.Handle
	err := inv.Do(func(m *replay.Machine) (err error) {
		h, err = m.Sleep(wake, name)
		return err
	})
	return h, err
}

// Awakeable creates an awakeable and returns its handle and id.
func (inv *Invocation) Awakeable() (replay.Handle, string, error) {
	var (
		h  replay.Handle
		id string
	)
	err := inv.Do(func(m *replay.Machine) (err error) {
		h, id, err = m.Awakeable()
		return err
	})
	return h, id, err
}

// CompleteAwakeable completes the awakeable id with r.
func (inv *Invocation) CompleteAwakeable(id string, r wire.Result) error {
	return inv.Do(func(m *replay.Machine) error { return m.CompleteAwakeable(id, r) })
}

// Signal returns the handle of this invocation's named signal.
func (inv *Invocation) Signal(name string) (replay.Handle, error) {
	var h replay.Handle
	err := inv.Do(func(m *replay.Machine) (err error) {
		h, err = m.Signal(name)
		return err
	})
	return h, err
}

// SendSignal sends the named signal with r to another invocation.
func (inv *Invocation) SendSignal(invocationID, name string, r wire.Result) error {
	return inv.Do(func(m *replay.Machine) error { return m.SendSignal(invocationID, name, r) })
}

// GetPromise returns the handle of the value of the workflow's promise key.
func (inv *Invocation) GetPromise(key string) (replay.Handle, error) {
	var h replay.Handle
	err := inv.Do(func(m *replay.Machine) (err error) {
		h, err = m.GetPromise(key)
		return err
	})
	return h, err
}

// PeekPromise returns the handle of the value of the workflow's promise
// key if it is completed, without waiting for it.
func (inv *Invocation) PeekPromise(key string) (replay.Handle, error) {
	var h replay.Handle
	err := inv.Do(func(m *replay.Machine) (err error) {
		h, err = m.PeekPromise(key)
		return err
	})
	return h, err
}

// CompletePromise completes the workflow's promise key with r and returns
// the handle of the outcome.
func (inv *Invocation) CompletePromise(key string, r wire.Result) (replay.Handle, error) {
	var h replay.Handle
	err := inv.Do(func(m *replay.Machine) (err error) {
		h, err = m.CompletePromise(key, r)
		return err
	})
	return h, err
}

// Call calls a handler and returns the handles of the callee's invocation
// id and of its result.
func (inv *Invocation) Call(t replay.CallTarget, param []byte) (id, result replay.Handle, err error) {
	err = inv.Do(func(m *replay.Machine) (err error) {
		id, result, err = m.Call(t, param)
		return err
	})
	return id, result, err
}

// Send starts an invocation of a handler at invokeTime (Unix
// milliseconds, 0 for now) and returns the handle of its invocation id.
func (inv *Invocation) Send(t replay.CallTarget, param []byte, invokeTime uint64) (replay.Handle, error) {
	var h replay.Handle
	err := inv.Do(func(m *replay.Machine) (err error) {
		h, err = m.Send(t, param, invokeTime)
		return err
	})
	return h, err
}

// CancelInvocation cancels another invocation by id.
func (inv *Invocation) CancelInvocation(invocationID string) error {
	return inv.Do(func(m *replay.Machine) error { return m.CancelInvocation(invocationID) })
}

// Attach returns the handle of the result of the invocation t names.
func (inv *Invocation) Attach(t wire.InvocationTarget) (replay.Handle, error) {
	var h replay.Handle
	err := inv.Do(func(m *replay.Machine) (err error) {
		h, err = m.Attach(t)
		return err
	})
	return h, err
}

// InvocationOutput returns the handle of the result of the invocation t
// names if it has completed, without waiting for it.
func (inv *Invocation) InvocationOutput(t wire.InvocationTarget) (replay.Handle, error) {
	var h replay.Handle
	err := inv.Do(func(m *replay.Machine) (err error) {
		h, err = m.GetInvocationOutput(t)
		return err
	})
	return h, err
}
