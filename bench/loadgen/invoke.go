// Package loadgen drives Restate service endpoints directly with the
// service protocol, bypassing the runtime so that an endpoint's own cost is
// visible: it opens invocations over HTTP/2 cleartext or HTTP/1.1 as
// bidirectional streams, sends prebuilt journals, answers run proposals,
// completes awakeables later, validates every response (the output value and
// the end message) and measures the endpoint process's CPU and memory from
// /proc.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qcodr/restate-sdk-go/bench/frames"
)

// Proto is an HTTP version: "h2" (HTTP/2 cleartext with prior knowledge, as
// the runtime connects to http:// deployments) or "h1" (HTTP/1.1).
type Proto string

// The HTTP versions.
const (
	H2 Proto = "h2"
	H1 Proto = "h1"
)

// Client sends invocations over a fixed set of connections.
type Client struct {
	proto Proto
	ts    []*http.Transport
	cs    []*http.Client
	next  atomic.Uint64
}

// NewClient returns a client for proto. Over HTTP/2 it spreads streams over
// conns connections (one transport each, round robin); over HTTP/1.1 it
// keeps up to conns idle connections.
func NewClient(proto Proto, conns int) *Client {
	if conns < 1 {
		conns = 1
	}
	c := &Client{proto: proto}
	n := conns
	if proto == H1 {
		n = 1
	}
	for range n {
		var p http.Protocols
		if proto == H1 {
			p.SetHTTP1(true)
		} else {
			p.SetUnencryptedHTTP2(true)
		}
		t := &http.Transport{
			Protocols:           &p,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: conns,
			MaxIdleConns:        conns,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		}
		c.ts = append(c.ts, t)
		c.cs = append(c.cs, &http.Client{Transport: t})
	}
	return c
}

// Close closes the client's idle connections.
func (c *Client) Close() {
	for _, t := range c.ts {
		t.CloseIdleConnections()
	}
}

func (c *Client) client() *http.Client {
	return c.cs[c.next.Add(1)%uint64(len(c.cs))]
}

// Stream is the request body of a bidirectional invocation: its first
// bytes, then whatever [Stream.Send] adds, until [Stream.Close].
type Stream struct {
	first []byte
	ch    chan []byte
	done  chan struct{}
	once  sync.Once
}

// NewStream returns a stream starting with first.
func NewStream(first []byte) *Stream {
	return &Stream{first: first, ch: make(chan []byte, 4), done: make(chan struct{})}
}

// Read implements io.Reader.
func (s *Stream) Read(p []byte) (int, error) {
	if len(s.first) == 0 {
		select {
		case b := <-s.ch:
			s.first = b
		case <-s.done:
			return 0, io.EOF
		}
	}
	n := copy(p, s.first)
	s.first = s.first[n:]
	return n, nil
}

// Send appends b to the stream; it does nothing once the stream is closed.
func (s *Stream) Send(b []byte) {
	select {
	case s.ch <- b:
	case <-s.done:
	}
}

// Close ends the stream.
func (s *Stream) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}

// Call is one invocation in flight.
type Call struct {
	Body    *Stream
	resp    *http.Response
	start   time.Time
	buf     []byte
	fs      []frames.Frame
	output  []byte
	failure string
}

// Invoke starts an invocation of path (/invoke/{service}/{handler}) on base
// with protocol version v and the request body first, and returns once the
// request is sent and the response headers arrived. The body stays open:
// [Call.Finish] reads the response.
func (c *Client) Invoke(ctx context.Context, base, path string, v int, first []byte) (*Call, error) {
	return c.invoke(ctx, base, path, v, NewStream(first))
}

func (c *Client) invoke(ctx context.Context, base, path string, v int, body *Stream) (*Call, error) {
	call := &Call{Body: body, start: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, call.Body)
	if err != nil {
		return nil, err
	}
	ct := frames.ContentType(v)
	req.Header = http.Header{"Content-Type": {ct}, "Accept": {ct}}
	resp, err := c.client().Do(req)
	if err != nil {
		call.Body.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("content-type") != ct {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		call.Body.Close()
		return nil, fmt.Errorf("loadgen: %s: status %d, content-type %q: %s", path, resp.StatusCode, resp.Header.Get("content-type"), bytes.TrimSpace(b))
	}
	call.resp = resp
	return call, nil
}

// Start begins an invocation without waiting for the response headers, for
// endpoints that send them only with their first frames (an invocation
// parked on an awakeable sends none). [Call.Finish] waits for them.
func (c *Client) Start(ctx context.Context, base, path string, v int, first []byte) *Pending {
	p := &Pending{Body: NewStream(first), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.call, p.err = c.invoke(ctx, base, path, v, p.Body)
	}()
	return p
}

// Pending is an invocation started with [Client.Start].
type Pending struct {
	// Body is the request body, open for [Stream.Send] at once.
	Body *Stream
	done chan struct{}
	call *Call
	err  error
}

// Wait returns the call once its response headers arrived.
func (p *Pending) Wait() (*Call, error) {
	<-p.done
	return p.call, p.err
}

// Responder answers the frames an endpoint writes before it ends; it
// returns the frames to send back (nil for none).
type Responder func(f frames.Frame) ([]byte, error)

// AnswerRuns is a [Responder] that acknowledges every proposed run result
// by echoing it as a run completion notification, as the runtime does on
// protocol V5 and V6.
func AnswerRuns(f frames.Frame) ([]byte, error) {
	if f.Type != frames.TypeProposeRun {
		return nil, nil
	}
	id, r, err := frames.DecodeProposeRun(f.Payload)
	if err != nil || r.Failed {
		return nil, fmt.Errorf("loadgen: bad run proposal: %+v, %v", r, err)
	}
	return frames.AppendRunCompletion(nil, id, r.Value), nil
}

// Finish reads the response until the end message, answering frames with
// respond (may be nil), closes the request body and checks that the output
// is a value equal to want. It returns the invocation's latency.
func (c *Call) Finish(respond Responder, want []byte) (time.Duration, error) {
	defer c.Body.Close()
	defer c.resp.Body.Close()
	if c.buf == nil {
		c.buf = make([]byte, 0, 4<<10)
	}
	ended := false
	for !ended {
		if len(c.buf) == cap(c.buf) {
			c.buf = append(c.buf, make([]byte, cap(c.buf))...)[:len(c.buf)]
		}
		n, err := c.resp.Body.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+n]
		var used int
		c.fs, used = frames.Split(c.buf, c.fs[:0])
		for _, f := range c.fs {
			if ended {
				return 0, errors.New("loadgen: frames after the end message")
			}
			switch f.Type {
			case frames.TypeOutput:
				r, derr := frames.DecodeOutput(f.Payload)
				if derr != nil {
					return 0, derr
				}
				if r.Failed {
					c.failure = fmt.Sprintf("%d %s", r.Code, r.Message)
				}
				c.output = append(c.output[:0], r.Value...)
			case frames.TypeEnd:
				ended = true
			case frames.TypeError:
				code, msg, _ := frames.DecodeError(f.Payload)
				return 0, fmt.Errorf("loadgen: error message %d: %s", code, msg)
			case frames.TypeSuspension:
				return 0, errors.New("loadgen: the invocation suspended")
			default:
				if respond != nil {
					b, rerr := respond(f)
					if rerr != nil {
						return 0, rerr
					}
					if b != nil {
						c.Body.Send(b)
					}
				}
			}
		}
		c.buf = append(c.buf[:0], c.buf[used:]...)
		if err != nil {
			if ended {
				break
			}
			if errors.Is(err, io.EOF) {
				return 0, errors.New("loadgen: the response ended without an end message")
			}
			return 0, err
		}
	}
	lat := time.Since(c.start)
	// Like the runtime, end the request body once the attempt ended, then
	// let the response body finish.
	c.Body.Close()
	_, _ = io.Copy(io.Discard, c.resp.Body)
	if c.failure != "" {
		return lat, fmt.Errorf("loadgen: output is a failure: %s", c.failure)
	}
	if !bytes.Equal(c.output, want) {
		return lat, fmt.Errorf("loadgen: output %q, want %q", c.output, want)
	}
	return lat, nil
}
