package restate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/qcodr/restate-sdk-go/internal/invocation"
	"github.com/qcodr/restate-sdk-go/replay"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Code is the HTTP-like status of a terminal failure, as Restate carries it
// on the wire and in the ingress's answers. Any value in 400..599 is valid;
// the constants name the ones the runtime and this SDK give a meaning to.
//
// 409 is not a general "conflict": Restate reports a cancelled invocation,
// call or await as a 409 failure, and [ErrCancelled] matches every 409. (The
// runtime also answers two of its own conflicts with 409: a durable promise
// completed twice, and a workflow's run invoked twice.) Give domain
// conflicts (a seat that is taken, a user that exists) another code, such as
// [CodePreconditionFailed] or [CodeUnprocessable].
type Code uint16

// The codes the runtime and this SDK give a meaning to.
const (
	// CodeBadRequest: the input was rejected (it could not be decoded, or
	// a handler refused it).
	CodeBadRequest Code = 400
	// CodeNotFound: the thing asked for does not exist.
	CodeNotFound Code = 404
	// CodeTimeout: a deadline passed first; the error of a [WithTimeout]
	// timer carries it (match that one with [ErrTimeout]).
	CodeTimeout Code = 408
	// CodeCancelled: the invocation or a callee was cancelled. Restate uses
	// it for cancellation only, and [ErrCancelled] matches it.
	CodeCancelled Code = 409
	// CodePreconditionFailed: the request conflicts with the current state
	// (a domain conflict).
	CodePreconditionFailed Code = 412
	// CodeUnprocessable: the input is well formed but invalid.
	CodeUnprocessable Code = 422
	// CodeInternal: the default code of a terminal error (a zero Code).
	CodeInternal Code = 500
	// CodeJournalMismatch: the handler did not replay its journal
	// deterministically.
	CodeJournalMismatch Code = 570
	// CodeProtocolViolation: the runtime sent something the protocol does
	// not allow.
	CodeProtocolViolation Code = 571
	// CodeUnsupportedFeature: the handler used a feature the negotiated
	// protocol version does not have.
	CodeUnsupportedFeature Code = 573
)

// TerminalError is a failure that Restate does not retry. Returned from a
// handler it becomes the invocation's result; returned from a run closure it
// is journaled as the run's result. Calls, awakeables, promises and signals
// that failed terminally return a *TerminalError too.
//
// Build one with [Terminal] or [TerminalErrorf], or as a literal. Find one in
// an error chain with errors.As, or test it with [IsTerminal] and
// [ErrorCode].
//
// A terminal error may be wrapped, as in
// fmt.Errorf("charging order 17: %w", te): the failure keeps te's code and
// metadata, and its message is the whole text, "charging order 17: " and
// te's message, so the context travels to the caller. The caller receives
// a new *TerminalError with that code, message and metadata; the chain
// below it (te's Err, and any sentinel it matched) stays in the invocation
// that returned it.
type TerminalError struct {
	// Code is the failure's status; 0 means [CodeInternal] (500). Do not
	// use [CodeCancelled] (409) for anything but cancellation.
	Code Code
	// Message is the failure's message; empty means the wrapped error's.
	Message string
	// Metadata travels with the failure (protocol V6 and newer; on V5 an
	// invocation that sets it fails with code 573).
	Metadata map[string]string
	// Err is the wrapped cause, if any.
	Err error
}

// errTimerFired is the cause of WithTimeout's terminal error; it is what
// ErrTimeout matches.
var errTimerFired = errors.New("restate: the timeout fired first")

func (e *TerminalError) Error() string {
	return e.message()
}

func (e *TerminalError) message() string {
	if e.Message != "" {
		return e.Message
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("terminal error %d", e.code())
}

func (e *TerminalError) code() Code {
	if e.Code == 0 {
		return CodeInternal
	}
	return e.Code
}

// Unwrap returns the wrapped cause.
func (e *TerminalError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCancelled) match every terminal error with
// [CodeCancelled] (409), and errors.Is(err, ErrTimeout) match the error of a
// [WithTimeout] timer only, not a 408 that came from elsewhere.
//
// The 409 rule is deliberate: Restate sends a cancellation (this
// invocation's, a callee's, or the kill of an attached invocation) as a plain
// 409 failure, with nothing else to tell it apart, so a 409 that a handler
// returns for its own reasons reads as a cancellation to every caller.
func (e *TerminalError) Is(target error) bool {
	switch target {
	case ErrCancelled:
		return e.code() == CodeCancelled
	case ErrTimeout:
		return e.Err == errTimerFired
	}
	return false
}

// ErrCancelled matches (with errors.Is) every terminal error with
// [CodeCancelled] (409): the error an await returns when the invocation was
// cancelled, and a callee's or an attached invocation's cancellation. Child
// calls were cancelled too; the handler may still write state and return.
var ErrCancelled error = &TerminalError{Code: CodeCancelled, Message: "cancelled"}

// ErrTimeout matches (with errors.Is) the terminal error of a future wrapped
// by [WithTimeout] whose timer fired first ([CodeTimeout], 408). It
// matches only in the invocation that owns the timer: a caller, or an
// ingress client, that receives the error gets a plain 408 terminal error;
// test that with ErrorCode(err) == CodeTimeout.
var ErrTimeout error = &TerminalError{Code: CodeTimeout, Message: "timeout", Err: errTimerFired}

// Terminal marks err as terminal with code 500: Restate will not retry it.
// Use a TerminalError literal for another code or metadata.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	var te *TerminalError
	if errors.As(err, &te) {
		return err
	}
	return &TerminalError{Err: err}
}

// TerminalErrorf formats a terminal error with code 500. Its Message is the
// formatted text; Err wraps the %w argument, if any.
func TerminalErrorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &TerminalError{Message: err.Error(), Err: err}
}

// IsTerminal reports whether err is or wraps a *TerminalError.
func IsTerminal(err error) bool {
	var te *TerminalError
	return errors.As(err, &te)
}

// ErrorCode returns the code of the terminal error in err's chain,
// [CodeInternal] for other non-nil errors, and 0 for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return 0
	}
	var te *TerminalError
	if errors.As(err, &te) {
		return te.code()
	}
	return CodeInternal
}

type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks err as retryable after delay: the runtime waits that long
// before the next attempt instead of following its retry policy's delay.
func RetryAfter(err error, delay time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, delay: delay}
}

type pauseError struct{ err error }

func (e *pauseError) Error() string { return e.err.Error() }
func (e *pauseError) Unwrap() error { return e.err }

// Pause makes the runtime pause the invocation instead of retrying it, until
// an operator resumes it (protocol V7; on older versions the attempt fails
// with code 573).
func Pause(err error) error {
	if err == nil {
		return nil
	}
	return &pauseError{err: err}
}

// ErrMisuse is wrapped by the error of an operation made where it is not
// allowed: on the handler context from inside a run closure, or from another
// goroutine while the handler is busy. The journal is left untouched.
var ErrMisuse = invocation.ErrMisuse

// failureResult converts a terminal error to the protocol's failure.
func failureResult(te *TerminalError) wire.Result {
	f := wire.Failure{Code: uint32(te.code()), Message: te.message()}
	for _, k := range slices.Sorted(maps.Keys(te.Metadata)) {
		f.Metadata = append(f.Metadata, wire.FailureMetadata{Key: k, Value: te.Metadata[k]})
	}
	return wire.Result{Kind: wire.ResultFailure, Failure: f}
}

// wrappedFailure is the failure of err, which wraps te: te's code and
// metadata, with err's whole text as the message. The wrapping text travels
// to the caller ("charging order 17: card declined"), as it would appear in
// a log of err; an unwrapped te keeps its own message.
func wrappedFailure(err error, te *TerminalError) wire.Result {
	r := failureResult(te)
	if err != error(te) {
		r.Failure.Message = err.Error()
	}
	return r
}

// terminalFromFailure converts a journaled failure back to a terminal error.
func terminalFromFailure(f wire.Failure) *TerminalError {
	te := &TerminalError{Code: Code(f.Code), Message: f.Message}
	if len(f.Metadata) > 0 {
		te.Metadata = make(map[string]string, len(f.Metadata))
		for _, m := range f.Metadata {
			te.Metadata[m.Key] = m.Value
		}
	}
	return te
}

// classify turns a handler's error into the attempt's outcome: a terminal
// failure result, or a retryable *replay.Error.
func classify(err error) (wire.Result, *replay.Error) {
	var te *TerminalError
	if errors.As(err, &te) {
		return wrappedFailure(err, te), nil
	}
	re := &replay.Error{Code: replay.CodeInternal, Message: err.Error()}
	var ra *retryAfterError
	if errors.As(err, &ra) {
		re.NextRetryDelay = ra.delay
	}
	var pe *pauseError
	if errors.As(err, &pe) {
		re.Behavior = wire.BehaviorPause
	}
	return wire.Result{}, re
}
