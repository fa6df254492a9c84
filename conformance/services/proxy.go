package services

import (
	"encoding/json"
	"fmt"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// ByteArray is a byte slice encoded in JSON as an array of numbers, one per
// byte (as kotlinx.serialization encodes a ByteArray), not as base64.
type ByteArray []byte

// MarshalJSON encodes b as an array of numbers.
func (b ByteArray) MarshalJSON() ([]byte, error) {
	ints := make([]int, len(b))
	for i, v := range b {
		ints[i] = int(v)
	}
	return json.Marshal(ints)
}

// UnmarshalJSON decodes an array of numbers 0-255 (null decodes as empty).
func (b *ByteArray) UnmarshalJSON(data []byte) error {
	var ints []int
	if err := json.Unmarshal(data, &ints); err != nil {
		return err
	}
	out := make(ByteArray, len(ints))
	for i, v := range ints {
		if v < 0 || v > 255 {
			return fmt.Errorf("byte %d out of range: %d", i, v)
		}
		out[i] = byte(v)
	}
	*b = out
	return nil
}

// ProxyRequest is a call or one-way call forwarded by Proxy, with the raw
// request body in Message.
type ProxyRequest struct {
	ServiceName string `json:"serviceName"`
	// VirtualObjectKey is nil for calls to plain services.
	VirtualObjectKey *string   `json:"virtualObjectKey,omitempty"`
	HandlerName      string    `json:"handlerName"`
	Message          ByteArray `json:"message"`
	// DelayMillis delays one-way calls.
	DelayMillis    *int64  `json:"delayMillis,omitempty"`
	IdempotencyKey *string `json:"idempotencyKey,omitempty"`
	Scope          *string `json:"scope,omitempty"`
	LimitKey       *string `json:"limitKey,omitempty"`
}

// ManyCallRequest is one entry of Proxy.manyCalls.
type ManyCallRequest struct {
	ProxyRequest  ProxyRequest `json:"proxyRequest"`
	OneWayCall    bool         `json:"oneWayCall"`
	AwaitAtTheEnd bool         `json:"awaitAtTheEnd"`
}

// requestOptions returns the options the request sets for both calls and
// sends.
func (r ProxyRequest) requestOptions() []restate.RequestOption {
	var opts []restate.RequestOption
	if r.IdempotencyKey != nil {
		opts = append(opts, restate.WithIdempotencyKey(*r.IdempotencyKey))
	}
	if r.Scope != nil {
		opts = append(opts, restate.WithScope(*r.Scope))
	}
	if r.LimitKey != nil {
		opts = append(opts, restate.WithLimitKey(*r.LimitKey))
	}
	return opts
}

// callOptions returns the options of the request-response call.
func (r ProxyRequest) callOptions() []restate.CallOption {
	var opts []restate.CallOption
	for _, o := range r.requestOptions() {
		opts = append(opts, o)
	}
	return opts
}

// sendOptions returns the options of the one-way call: the delay applies
// to sends only.
func (r ProxyRequest) sendOptions() []restate.SendOption {
	var opts []restate.SendOption
	for _, o := range r.requestOptions() {
		opts = append(opts, o)
	}
	if r.DelayMillis != nil && *r.DelayMillis > 0 {
		opts = append(opts, restate.WithDelay(time.Duration(*r.DelayMillis)*time.Millisecond))
	}
	return opts
}

// call starts the request-response call the request describes, passing the
// message bytes through unchanged.
func (r ProxyRequest) call(ctx restate.Context) restate.CallFuture[[]byte] {
	if r.VirtualObjectKey != nil {
		return restate.RemoteObject[[]byte, []byte](r.ServiceName, r.HandlerName, restate.WithCodec(restate.Raw)).
			Call(ctx, *r.VirtualObjectKey, r.Message, r.callOptions()...)
	}
	return restate.Remote[[]byte, []byte](r.ServiceName, r.HandlerName, restate.WithCodec(restate.Raw)).
		Call(ctx, r.Message, r.callOptions()...)
}

// send starts the one-way call the request describes.
func (r ProxyRequest) send(ctx restate.Context) restate.Invocation {
	if r.VirtualObjectKey != nil {
		return restate.RemoteObject[[]byte, restate.Void](r.ServiceName, r.HandlerName, restate.WithInputCodec(restate.Raw)).
			Send(ctx, *r.VirtualObjectKey, r.Message, r.sendOptions()...)
	}
	return restate.Remote[[]byte, restate.Void](r.ServiceName, r.HandlerName, restate.WithInputCodec(restate.Raw)).
		Send(ctx, r.Message, r.sendOptions()...)
}

// Proxy is a service forwarding raw calls and one-way calls to any
// handler: call returns the raw response, oneWayCall the invocation id of
// the call it sent, manyCalls issues a batch in order and awaits the calls
// marked awaitAtTheEnd.
var Proxy = restate.NewService("Proxy",
	restate.NewHandler("call", func(ctx restate.Context, r ProxyRequest) (ByteArray, error) {
		b, err := r.call(ctx).Await()
		return ByteArray(b), err
	}),
	restate.NewHandler("oneWayCall", func(ctx restate.Context, r ProxyRequest) (string, error) {
		return r.send(ctx).ID()
	}),
	restate.NewHandler("manyCalls", restate.NoOutput(func(ctx restate.Context, reqs []ManyCallRequest) error {
		var pending []restate.Future[[]byte]
		for _, r := range reqs {
			if r.OneWayCall {
				r.ProxyRequest.send(ctx)
				continue
			}
			f := r.ProxyRequest.call(ctx)
			if r.AwaitAtTheEnd {
				pending = append(pending, f.Future)
			}
		}
		_, err := restate.All(pending...).Await()
		return err
	})),
)
