package suite

// Names and payloads of the test-services contract (CONTRACT.md §3), as the
// Kotlin suite's contracts/*.kt serialize them.

const (
	svcAwakeableHolder      = "AwakeableHolder"
	svcBlockAndWaitWorkflow = "BlockAndWaitWorkflow"
	svcCancelTestRunner     = "CancelTestRunner"
	svcCancelTestBlocking   = "CancelTestBlockingService"
	svcCounter              = "Counter"
	svcFailing              = "Failing"
	svcKillTestRunner       = "KillTestRunner"
	svcKillTestSingleton    = "KillTestSingleton"
	svcListObject           = "ListObject"
	svcMapObject            = "MapObject"
	svcNonDeterministic     = "NonDeterministic"
	svcProxy                = "Proxy"
	svcTestUtils            = "TestUtilsService"
	svcInterpreter          = "VirtualObjectCommandInterpreter"
)

// counterUpdate is Counter.CounterUpdateResponse.
type counterUpdate struct {
	OldValue int64 `json:"oldValue"`
	NewValue int64 `json:"newValue"`
}

// proxyRequest is Proxy.ProxyRequest; optional fields are omitted when
// unset, as kotlinx.serialization does for null defaults.
type proxyRequest struct {
	ServiceName      string `json:"serviceName"`
	VirtualObjectKey string `json:"virtualObjectKey,omitempty"`
	HandlerName      string `json:"handlerName"`
	Message          Bytes  `json:"message"`
	DelayMillis      int    `json:"delayMillis,omitempty"`
	IdempotencyKey   string `json:"idempotencyKey,omitempty"`
	Scope            string `json:"scope,omitempty"`
	LimitKey         string `json:"limitKey,omitempty"`
}

// manyCallRequest is Proxy.ManyCallRequest.
type manyCallRequest struct {
	ProxyRequest  proxyRequest `json:"proxyRequest"`
	OneWayCall    bool         `json:"oneWayCall"`
	AwaitAtTheEnd bool         `json:"awaitAtTheEnd"`
}

// failureToPropagate is Failing.FailureToPropagate.
type failureToPropagate struct {
	ErrorMessage string            `json:"errorMessage"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// mapEntry is MapObject.Entry.
type mapEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// signalRequest is TestUtilsService.ResolveSignalRequest (Value) or
// RejectSignalRequest (Reason).
type signalRequest struct {
	InvocationID string `json:"invocationId"`
	SignalName   string `json:"signalName"`
	Value        string `json:"value,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// Awaitables and commands of VirtualObjectCommandInterpreter, serialized
// with a "type" discriminator.
type command = map[string]any

func createAwakeable(key string) command {
	return command{"type": "createAwakeable", "awakeableKey": key}
}
func sleepCmd(millis int64) command { return command{"type": "sleep", "timeoutMillis": millis} }
func runReturns(value string) command {
	return command{"type": "runReturns", "value": value}
}
func runThrowTerminalException(reason string) command {
	return command{"type": "runThrowTerminalException", "reason": reason}
}
func createSignal(name string) command {
	return command{"type": "createSignal", "signalName": name}
}
func awaitOne(c command) command { return command{"type": "awaitOne", "command": c} }
func awaitList(kind string, cs ...command) command {
	if cs == nil {
		cs = []command{}
	}
	return command{"type": kind, "commands": cs}
}
func awaitAny(cs ...command) command           { return awaitList("awaitAny", cs...) }
func awaitAnySuccessful(cs ...command) command { return awaitList("awaitAnySuccessful", cs...) }
func awaitFirstCompleted(cs ...command) command {
	return awaitList("awaitFirstCompleted", cs...)
}
func awaitFirstSucceededOrAllFailed(cs ...command) command {
	return awaitList("awaitFirstSucceededOrAllFailed", cs...)
}
func awaitAllSucceededOrFirstFailed(cs ...command) command {
	return awaitList("awaitAllSucceededOrFirstFailed", cs...)
}
func awaitAllCompleted(cs ...command) command { return awaitList("awaitAllCompleted", cs...) }
func awaitAwakeableOrTimeout(key string, millis int64) command {
	return command{"type": "awaitAwakeableOrTimeout", "awakeableKey": key, "timeoutMillis": millis}
}

// interpretRequest is VirtualObjectCommandInterpreter.InterpretRequest.
func interpretRequest(cs ...command) command {
	if cs == nil {
		cs = []command{}
	}
	return command{"commands": cs}
}

// interpret targets VirtualObjectCommandInterpreter/key/interpretCommands.
func interpret(key string) Target { return ObjectTarget(svcInterpreter, key, "interpretCommands") }
