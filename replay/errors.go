package replay

import (
	"errors"
	"fmt"
	"time"

	"github.com/qcodr/restate-sdk-go/wire"
)

// Error codes the engine reports in ErrorMessage, besides HTTP-like codes.
const (
	CodeBadRequest         uint16 = 400
	CodeInternal           uint16 = 500
	CodeJournalMismatch    uint16 = 570 // the handler is not deterministic
	CodeProtocolViolation  uint16 = 571 // the runtime sent something unexpected
	CodeUnsupportedFeature uint16 = 573 // feature not available on the negotiated version
	CodeCancelled          uint16 = 409 // terminal failure of a cancelled await
)

// Error is an attempt failure: the engine writes it as an ErrorMessage and
// closes. The runtime retries the invocation according to its policy unless
// Behavior says otherwise (V7).
type Error struct {
	Code       uint16
	Message    string
	Stacktrace string
	// Related command, when known.
	RelatedIndex *uint32
	RelatedName  string
	RelatedType  wire.Type // 0 when unknown
	// NextRetryDelay overrides the runtime's delay for the next retry; 0 = unset.
	NextRetryDelay time.Duration
	Behavior       wire.ErrorBehavior
}

func (e *Error) Error() string {
	return fmt.Sprintf("replay: [%d] %s", e.Code, e.Message)
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, &replay.Error{Code: 570}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == ""
}

func (e *Error) message() *wire.ErrorMessage {
	m := &wire.ErrorMessage{
		Code:       uint32(e.Code),
		Message:    e.Message,
		Stacktrace: e.Stacktrace,
		Behavior:   e.Behavior,
	}
	if e.RelatedIndex != nil {
		m.RelatedCommandIndex = wire.Uint32(*e.RelatedIndex)
		if e.RelatedName != "" {
			m.RelatedCommandName = wire.String(e.RelatedName)
		}
		if e.RelatedType != 0 {
			m.RelatedCommandType = wire.Uint32(uint32(e.RelatedType))
		}
	}
	if e.NextRetryDelay > 0 {
		m.NextRetryDelay = wire.Uint64(uint64(e.NextRetryDelay / time.Millisecond))
	}
	return m
}

// ErrSuspended is returned by every method once the engine suspended: the
// attempt is over and the runtime will re-invoke when something the handler
// awaits completes.
var ErrSuspended = errors.New("replay: suspended")

// ErrClosed is returned by methods called after the attempt ended with
// EndMessage.
var ErrClosed = errors.New("replay: attempt ended")

// ErrTaken is returned by Await for a future with a handle whose result was
// already taken (Take): the engine no longer knows that result, and waiting
// for it would never end (an SDK must keep a taken result itself, gotcha
// G17). The attempt stays open.
var ErrTaken = errors.New("replay: awaiting a handle whose result was already taken")

func protocolViolation(format string, args ...any) *Error {
	return &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf(format, args...)}
}

func unsupported(feature string, have, need wire.Version) *Error {
	return &Error{
		Code: CodeUnsupportedFeature,
		Message: fmt.Sprintf("%s needs service protocol %s or newer, but this invocation negotiated %s; "+
			"upgrade the Restate server or enable the newer protocol", feature, need, have),
	}
}
