package wire

import (
	"fmt"
	"strconv"
)

// Type is the 16-bit message type id in a frame header.
//
// Ranges: 0x0000–0x03FF control messages, 0x0400–0x7FFF commands,
// 0x8000–0xFBFF notifications, 0xFC00–0xFFFF custom entries.
type Type uint16

// Control messages.
const (
	TypeStart                   Type = 0x0000
	TypeSuspension              Type = 0x0001
	TypeError                   Type = 0x0002
	TypeEnd                     Type = 0x0003
	TypeCommandAck              Type = 0x0004
	TypeProposeRunCompletion    Type = 0x0005
	TypeAwaitingOn              Type = 0x0006 // V7 only
	TypeProposeRunCompletionAck Type = 0x0007 // V7 only
)

// Commands.
const (
	TypeInputCommand               Type = 0x0400
	TypeOutputCommand              Type = 0x0401
	TypeGetLazyStateCommand        Type = 0x0402
	TypeSetStateCommand            Type = 0x0403
	TypeClearStateCommand          Type = 0x0404
	TypeClearAllStateCommand       Type = 0x0405
	TypeGetLazyStateKeysCommand    Type = 0x0406
	TypeGetEagerStateCommand       Type = 0x0407
	TypeGetEagerStateKeysCommand   Type = 0x0408
	TypeGetPromiseCommand          Type = 0x0409
	TypePeekPromiseCommand         Type = 0x040A
	TypeCompletePromiseCommand     Type = 0x040B
	TypeSleepCommand               Type = 0x040C
	TypeCallCommand                Type = 0x040D
	TypeOneWayCallCommand          Type = 0x040E
	TypeSendSignalCommand          Type = 0x0410
	TypeRunCommand                 Type = 0x0411
	TypeAttachInvocationCommand    Type = 0x0412
	TypeGetInvocationOutputCommand Type = 0x0413
	TypeCompleteAwakeableCommand   Type = 0x0414
)

// Notifications. All of them share one layout, decoded into [Notification].
const (
	TypeGetLazyStateCompletion        Type = 0x8002
	TypeGetLazyStateKeysCompletion    Type = 0x8006
	TypeGetPromiseCompletion          Type = 0x8009
	TypePeekPromiseCompletion         Type = 0x800A
	TypeCompletePromiseCompletion     Type = 0x800B
	TypeSleepCompletion               Type = 0x800C
	TypeCallCompletion                Type = 0x800D
	TypeCallInvocationIDCompletion    Type = 0x800E
	TypeRunCompletion                 Type = 0x8011
	TypeAttachInvocationCompletion    Type = 0x8012
	TypeGetInvocationOutputCompletion Type = 0x8013
	TypeSignalNotification            Type = 0xFBFF
)

var typeNames = map[Type]string{
	TypeStart:                   "StartMessage",
	TypeSuspension:              "SuspensionMessage",
	TypeError:                   "ErrorMessage",
	TypeEnd:                     "EndMessage",
	TypeCommandAck:              "CommandAckMessage",
	TypeProposeRunCompletion:    "ProposeRunCompletionMessage",
	TypeAwaitingOn:              "AwaitingOnMessage",
	TypeProposeRunCompletionAck: "ProposeRunCompletionAckMessage",

	TypeInputCommand:               "InputCommandMessage",
	TypeOutputCommand:              "OutputCommandMessage",
	TypeGetLazyStateCommand:        "GetLazyStateCommandMessage",
	TypeSetStateCommand:            "SetStateCommandMessage",
	TypeClearStateCommand:          "ClearStateCommandMessage",
	TypeClearAllStateCommand:       "ClearAllStateCommandMessage",
	TypeGetLazyStateKeysCommand:    "GetLazyStateKeysCommandMessage",
	TypeGetEagerStateCommand:       "GetEagerStateCommandMessage",
	TypeGetEagerStateKeysCommand:   "GetEagerStateKeysCommandMessage",
	TypeGetPromiseCommand:          "GetPromiseCommandMessage",
	TypePeekPromiseCommand:         "PeekPromiseCommandMessage",
	TypeCompletePromiseCommand:     "CompletePromiseCommandMessage",
	TypeSleepCommand:               "SleepCommandMessage",
	TypeCallCommand:                "CallCommandMessage",
	TypeOneWayCallCommand:          "OneWayCallCommandMessage",
	TypeSendSignalCommand:          "SendSignalCommandMessage",
	TypeRunCommand:                 "RunCommandMessage",
	TypeAttachInvocationCommand:    "AttachInvocationCommandMessage",
	TypeGetInvocationOutputCommand: "GetInvocationOutputCommandMessage",
	TypeCompleteAwakeableCommand:   "CompleteAwakeableCommandMessage",

	TypeGetLazyStateCompletion:        "GetLazyStateCompletionNotificationMessage",
	TypeGetLazyStateKeysCompletion:    "GetLazyStateKeysCompletionNotificationMessage",
	TypeGetPromiseCompletion:          "GetPromiseCompletionNotificationMessage",
	TypePeekPromiseCompletion:         "PeekPromiseCompletionNotificationMessage",
	TypeCompletePromiseCompletion:     "CompletePromiseCompletionNotificationMessage",
	TypeSleepCompletion:               "SleepCompletionNotificationMessage",
	TypeCallCompletion:                "CallCompletionNotificationMessage",
	TypeCallInvocationIDCompletion:    "CallInvocationIdCompletionNotificationMessage",
	TypeRunCompletion:                 "RunCompletionNotificationMessage",
	TypeAttachInvocationCompletion:    "AttachInvocationCompletionNotificationMessage",
	TypeGetInvocationOutputCompletion: "GetInvocationOutputCompletionNotificationMessage",
	TypeSignalNotification:            "SignalNotificationMessage",
}

// String returns the protocol's name of the message type, such as
// "StartMessage", or "Type(0x1234)" for an unknown id.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "Type(0x" + strconv.FormatUint(uint64(t), 16) + ")"
}

// Known reports whether t is one of the message types of V5–V7.
func (t Type) Known() bool { _, ok := typeNames[t]; return ok }

// IsControl reports whether t is in the control range 0x0000–0x03FF.
func (t Type) IsControl() bool { return t < 0x0400 }

// IsCommand reports whether t is in the command range 0x0400–0x7FFF.
func (t Type) IsCommand() bool { return t >= 0x0400 && t < 0x8000 }

// IsNotification reports whether t is in the notification range
// 0x8000–0xFBFF (the signal notification 0xFBFF included).
func (t Type) IsNotification() bool { return t >= 0x8000 && t < 0xFC00 }

// IsCustom reports whether t is in the custom-entry range 0xFC00–0xFFFF.
func (t Type) IsCustom() bool { return t >= 0xFC00 }

// Version is a negotiated service protocol version.
type Version uint8

// The supported service protocol versions.
const (
	V5 Version = 5
	V6 Version = 6
	V7 Version = 7

	MinVersion = V5
	MaxVersion = V7
)

const contentTypePrefix = "application/vnd.restate.invocation.v"

// ContentType returns the HTTP content type of the version, for example
// "application/vnd.restate.invocation.v6".
func (v Version) ContentType() string {
	return contentTypePrefix + strconv.Itoa(int(v))
}

// String returns the version's name, such as "V6".
func (v Version) String() string { return "V" + strconv.Itoa(int(v)) }

// ParseContentType returns the protocol version named by an HTTP content type.
// It fails for a missing or non-Restate content type and for versions
// outside [MinVersion, MaxVersion].
func ParseContentType(ct string) (Version, error) {
	if ct == "" {
		return 0, fmt.Errorf("wire: missing content-type")
	}
	if len(ct) <= len(contentTypePrefix) || ct[:len(contentTypePrefix)] != contentTypePrefix {
		return 0, fmt.Errorf("wire: content-type %q is not a Restate invocation type", ct)
	}
	n, err := strconv.Atoi(ct[len(contentTypePrefix):])
	if err != nil {
		return 0, fmt.Errorf("wire: content-type %q is not a Restate invocation type", ct)
	}
	if n < int(MinVersion) || n > int(MaxVersion) {
		return 0, fmt.Errorf("wire: service protocol version %d is not supported (supported: %d to %d); the deployment may need to be re-discovered", n, MinVersion, MaxVersion)
	}
	return Version(n), nil
}

// Message is implemented by every protocol message type of this package.
type Message interface {
	// Type is the message type id written in the frame header.
	Type() Type
	// AppendPayload appends the protobuf encoding of the message to b.
	AppendPayload(b []byte) []byte
	// DecodePayload replaces the message's fields with those decoded from p.
	// Byte slices in the result alias p.
	DecodePayload(p []byte) error
}

// Optional scalar helpers for proto3 `optional` fields.

// String returns a pointer to s, for optional string fields.
func String(s string) *string { return &s }

// Uint32 returns a pointer to v, for optional uint32 fields.
func Uint32(v uint32) *uint32 { return &v }

// Uint64 returns a pointer to v, for optional uint64 fields.
func Uint64(v uint64) *uint64 { return &v }

// ---------------------------------------------------------------------------
// Nested messages and enums

// HeaderEntry is the protocol's Header message: one key/value pair of the
// caller's request headers or of a call's headers.
type HeaderEntry struct {
	Key   string // #1
	Value string // #2
}

// FailureMetadata is one key/value pair attached to a Failure (V6+).
type FailureMetadata struct {
	Key   string // #1
	Value string // #2
}

// Failure is a terminal failure: an HTTP-like code and a message.
type Failure struct {
	Code     uint32            // #1
	Message  string            // #2
	Metadata []FailureMetadata // #3, V6+
}

// StateEntry is one eager state entry of the StartMessage. An empty Value is
// a present-but-empty value, not a missing one.
type StateEntry struct {
	Key   []byte // #1
	Value []byte // #2
}

// WorkflowTarget names a workflow by name and key.
type WorkflowTarget struct {
	WorkflowName string  // #1
	WorkflowKey  string  // #2
	Scope        *string // #3, V7
}

// IdempotentRequestTarget names an invocation by its idempotency key.
type IdempotentRequestTarget struct {
	ServiceName    string  // #1
	ServiceKey     *string // #2
	HandlerName    string  // #3
	IdempotencyKey string  // #4
	Scope          *string // #5, V7
}

// TargetKind says which variant of the `target` oneof an [InvocationTarget] holds.
type TargetKind uint8

// The variants of an invocation target.
const (
	TargetNone              TargetKind = iota
	TargetInvocationID                 // #1 invocation_id
	TargetIdempotentRequest            // #3 idempotent_request_target
	TargetWorkflow                     // #4 workflow_target
)

// InvocationTarget is the `target` oneof of AttachInvocation and
// GetInvocationOutput commands.
type InvocationTarget struct {
	Kind              TargetKind
	InvocationID      string
	IdempotentRequest IdempotentRequestTarget
	Workflow          WorkflowTarget
}

// ResultKind says which variant of a `result` oneof a [Result] holds.
type ResultKind uint8

// The variants of a result. Each message accepts only some of them (see the
// message's doc); the encoder writes nothing for a variant the message does
// not have.
const (
	ResultNone         ResultKind = iota // oneof not set
	ResultVoid                           // void: Void {}
	ResultValue                          // value: Value {content} (raw bytes for ProposeRunCompletion)
	ResultFailure                        // failure: Failure
	ResultInvocationID                   // invocation_id: string (notifications only)
	ResultStateKeys                      // state_keys: StateKeys (notifications only)
)

// String returns the kind's name, such as "value" or "invocation id".
func (k ResultKind) String() string {
	switch k {
	case ResultNone:
		return "none"
	case ResultVoid:
		return "void"
	case ResultValue:
		return "value"
	case ResultFailure:
		return "failure"
	case ResultInvocationID:
		return "invocation id"
	case ResultStateKeys:
		return "state keys"
	}
	return "ResultKind(" + strconv.Itoa(int(k)) + ")"
}

// Result is the `result` (or `completion`) oneof of commands and
// notifications.
type Result struct {
	Kind         ResultKind
	Value        []byte   // ResultValue: Value.content
	Failure      Failure  // ResultFailure
	InvocationID string   // ResultInvocationID
	StateKeys    [][]byte // ResultStateKeys
}

// VoidResult returns a void result.
func VoidResult() Result { return Result{Kind: ResultVoid} }

// ValueResult returns a value result holding b.
func ValueResult(b []byte) Result { return Result{Kind: ResultValue, Value: b} }

// FailureResult returns a failure result.
func FailureResult(code uint32, message string) Result {
	return Result{Kind: ResultFailure, Failure: Failure{Code: code, Message: message}}
}

// CombinatorType is the combinator of a V7 [Future] node. Like every
// protobuf enum it is open: values the protocol does not define are kept.
type CombinatorType int32

// The combinators of a V7 future tree.
const (
	CombinatorUnknown                   CombinatorType = 0 // treated as FirstCompleted
	CombinatorFirstCompleted            CombinatorType = 1
	CombinatorAllCompleted              CombinatorType = 2
	CombinatorFirstSucceededOrAllFailed CombinatorType = 3
	CombinatorAllSucceededOrFirstFailed CombinatorType = 4
)

// Future is the V7 tree of awaited notifications sent in SuspensionMessage and
// AwaitingOnMessage.
type Future struct {
	WaitingCompletions  []uint32       // #1
	WaitingSignals      []uint32       // #2
	WaitingNamedSignals []string       // #3
	NestedFutures       []Future       // #4
	CombinatorType      CombinatorType // #5
}

// ErrorBehavior tells a V7 runtime what to do after an ErrorMessage. Like
// every protobuf enum it is open: values the protocol does not define are
// kept.
type ErrorBehavior int32

// The error behaviors of V7.
const (
	BehaviorRetry ErrorBehavior = 0
	BehaviorPause ErrorBehavior = 1
	BehaviorFail  ErrorBehavior = 2
)

// Built-in signal ids. 1..16 are reserved; awakeables start at 17.
const (
	SignalCancel uint32 = 1
)

// ---------------------------------------------------------------------------
// Control messages

// StartMessage (0x0000) is the first frame of every request body.
type StartMessage struct {
	ID                             []byte       // #1 binary invocation id
	DebugID                        string       // #2 printable invocation id, inv_…
	KnownEntries                   uint32       // #3 journal messages that follow
	StateMap                       []StateEntry // #4 eager state
	PartialState                   bool         // #5
	Key                            string       // #6 object/workflow key
	RetryCountSinceLastStoredEntry uint32       // #7
	DurationSinceLastStoredEntry   uint64       // #8 milliseconds
	RandomSeed                     uint64       // #9 V6+
	Scope                          *string      // #10 V7
	LimitKey                       *string      // #11 V7
	IdempotencyKey                 *string      // #12 V7
}

// SuspensionMessage (0x0001) tells the runtime what the attempt waits for.
// V5/V6 use the three flat lists; V7 uses AwaitingOn and reserves #1–#3.
type SuspensionMessage struct {
	WaitingCompletions  []uint32 // #1 V5/V6
	WaitingSignals      []uint32 // #2 V5/V6
	WaitingNamedSignals []string // #3 V5/V6
	AwaitingOn          *Future  // #4 V7
}

// ErrorMessage (0x0002) fails the attempt; the runtime decides about retries.
type ErrorMessage struct {
	Code                uint32        // #1
	Message             string        // #2
	Stacktrace          string        // #3
	RelatedCommandIndex *uint32       // #4
	RelatedCommandName  *string       // #5
	RelatedCommandType  *uint32       // #6
	NextRetryDelay      *uint64       // #8 milliseconds
	Behavior            ErrorBehavior // #9 V7
}

// EndMessage (0x0003) ends an attempt whose handler completed.
type EndMessage struct{}

// CommandAckMessage (0x0004) acknowledges a command sent with the requested-ack
// flag. SDKs never request it.
type CommandAckMessage struct {
	CommandIndex uint32 // #1
}

// ProposeRunCompletionMessage (0x0005) proposes the result of a run. Result
// is ResultValue (field #14 holds raw bytes, not a Value message) or
// ResultFailure (#15).
type ProposeRunCompletionMessage struct {
	ResultCompletionID uint32 // #1
	Result             Result // #14 value bytes | #15 failure
}

// AwaitingOnMessage (0x0006, V7) is a hint of what a blocked attempt waits for.
type AwaitingOnMessage struct {
	AwaitingOn           *Future // #1
	ExecutingSideEffects bool    // #2
}

// ProposeRunCompletionAckMessage (0x0007, V7) acknowledges a stored run
// proposal.
type ProposeRunCompletionAckMessage struct {
	CompletionID uint32 // #1
}

// ---------------------------------------------------------------------------
// Commands

// InputCommand (0x0400) carries the handler's input and the caller's headers.
type InputCommand struct {
	Headers []HeaderEntry // #1
	Value   []byte        // #14 Value.content; nil when absent
	Name    string        // #12
}

// OutputCommand (0x0401) carries the handler's result: ResultValue (#14) or
// ResultFailure (#15).
type OutputCommand struct {
	Result Result // #14 value | #15 failure
	Name   string // #12
}

// GetLazyStateCommand (0x0402) asks the runtime for one state value.
type GetLazyStateCommand struct {
	Key                []byte // #1
	ResultCompletionID uint32 // #11
	Name               string // #12
}

// SetStateCommand (0x0403) writes one state value.
type SetStateCommand struct {
	Key   []byte // #1
	Value []byte // #3 Value.content
	Name  string // #12
}

// ClearStateCommand (0x0404) removes one state value.
type ClearStateCommand struct {
	Key  []byte // #1
	Name string // #12
}

// ClearAllStateCommand (0x0405) removes all state of the object.
type ClearAllStateCommand struct {
	Name string // #12
}

// GetLazyStateKeysCommand (0x0406) asks the runtime for the state keys.
type GetLazyStateKeysCommand struct {
	ResultCompletionID uint32 // #11
	Name               string // #12
}

// GetEagerStateCommand (0x0407) journals a state read served from the eager
// state. Result is ResultVoid (#13, absent) or ResultValue (#14).
type GetEagerStateCommand struct {
	Key    []byte // #1
	Result Result // #13 void | #14 value
	Name   string // #12
}

// GetEagerStateKeysCommand (0x0408) journals a keys read served from the
// eager state.
type GetEagerStateKeysCommand struct {
	Keys [][]byte // #14 StateKeys.keys
	Name string   // #12
}

// GetPromiseCommand (0x0409) awaits a workflow's durable promise.
type GetPromiseCommand struct {
	Key                string // #1
	ResultCompletionID uint32 // #11
	Name               string // #12
}

// PeekPromiseCommand (0x040A) reads a durable promise without waiting.
type PeekPromiseCommand struct {
	Key                string // #1
	ResultCompletionID uint32 // #11
	Name               string // #12
}

// CompletePromiseCommand (0x040B) resolves or rejects a durable promise.
// Completion is ResultValue (#2) or ResultFailure (#3).
type CompletePromiseCommand struct {
	Key                string // #1
	Completion         Result // #2 completion_value | #3 completion_failure
	ResultCompletionID uint32 // #11
	Name               string // #12
}

// SleepCommand (0x040C) starts a durable timer.
type SleepCommand struct {
	WakeUpTime         uint64 // #1 absolute, ms since the Unix epoch
	ResultCompletionID uint32 // #11
	Name               string // #12
}

// CallCommand (0x040D) calls another handler and awaits its result.
type CallCommand struct {
	ServiceName                 string        // #1
	HandlerName                 string        // #2
	Parameter                   []byte        // #3
	Headers                     []HeaderEntry // #4
	Key                         string        // #5
	IdempotencyKey              *string       // #6
	Scope                       *string       // #7 V7
	LimitKey                    *string       // #8 V7
	InvocationIDNotificationIdx uint32        // #10
	ResultCompletionID          uint32        // #11
	Name                        string        // #12
}

// OneWayCallCommand (0x040E) sends an invocation without awaiting its result.
// Field numbers differ from CallCommand from #4 on.
type OneWayCallCommand struct {
	ServiceName                 string        // #1
	HandlerName                 string        // #2
	Parameter                   []byte        // #3
	InvokeTime                  uint64        // #4 absolute ms; 0 = now
	Headers                     []HeaderEntry // #5
	Key                         string        // #6
	IdempotencyKey              *string       // #7
	Scope                       *string       // #8 V7
	LimitKey                    *string       // #9 V7
	InvocationIDNotificationIdx uint32        // #10
	Name                        string        // #12
}

// SendSignalCommand (0x0410) sends a signal to another invocation. The
// signal is named when SignalName is non-empty (#3), otherwise it is the
// index Idx (#2; 1 cancels the target). Result is ResultVoid (#4),
// ResultValue (#5) or ResultFailure (#6).
type SendSignalCommand struct {
	TargetInvocationID string // #1
	Idx                uint32 // #2
	SignalName         string // #3
	Result             Result // #4 void | #5 value | #6 failure
	EntryName          string // #12
}

// RunCommand (0x0411) journals a side effect; its result arrives as a
// notification after the SDK proposed it.
type RunCommand struct {
	ResultCompletionID uint32 // #11
	Name               string // #12
}

// AttachInvocationCommand (0x0412) awaits the result of another invocation.
type AttachInvocationCommand struct {
	Target             InvocationTarget // #1 | #3 | #4
	ResultCompletionID uint32           // #11
	Name               string           // #12
}

// GetInvocationOutputCommand (0x0413) reads the result of another invocation
// if it has completed.
type GetInvocationOutputCommand struct {
	Target             InvocationTarget // #1 | #3 | #4
	ResultCompletionID uint32           // #11
	Name               string           // #12
}

// CompleteAwakeableCommand (0x0414) resolves (ResultValue, #2) or rejects
// (ResultFailure, #3) an awakeable.
type CompleteAwakeableCommand struct {
	AwakeableID string // #1
	Result      Result // #2 value | #3 failure
	Name        string // #12
}

// ---------------------------------------------------------------------------
// Notifications

// IDKind says which variant of a notification's `id` oneof is set.
type IDKind uint8

// The variants of a notification id.
const (
	IDNone       IDKind = iota
	IDCompletion        // #1 completion_id
	IDSignal            // #2 signal_id
	IDSignalName        // #3 signal_name
)

// NotificationID identifies what a notification completes. It is comparable
// and can be used as a map key.
type NotificationID struct {
	Kind  IDKind
	Index uint32 // completion id or signal id
	Name  string // signal name
}

// CompletionID returns the id of completion c.
func CompletionID(c uint32) NotificationID { return NotificationID{Kind: IDCompletion, Index: c} }

// SignalID returns the id of signal s.
func SignalID(s uint32) NotificationID { return NotificationID{Kind: IDSignal, Index: s} }

// NamedSignalID returns the id of the named signal.
func NamedSignalID(name string) NotificationID {
	return NotificationID{Kind: IDSignalName, Name: name}
}

// String describes the id, such as "completion 3", "signal 17" or
// `signal "approved"`.
func (id NotificationID) String() string {
	switch id.Kind {
	case IDCompletion:
		return "completion " + strconv.FormatUint(uint64(id.Index), 10)
	case IDSignal:
		return "signal " + strconv.FormatUint(uint64(id.Index), 10)
	case IDSignalName:
		return "signal " + strconv.Quote(id.Name)
	}
	return "no id"
}

// Notification is any notification message (0x8000–0xFBFF). They all share
// the protocol's NotificationTemplate layout: an id oneof (#1 completion_id,
// #2 signal_id, #3 signal_name) and a result oneof (#4 void, #5 value,
// #6 failure, #16 invocation_id, #17 state_keys).
type Notification struct {
	MessageType Type // which notification message; one of the notification types
	ID          NotificationID
	Result      Result
}
