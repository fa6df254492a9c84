package h2c_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

// FuzzRequestBody serves arbitrary request bodies, in both modes, through
// the frame reading of h2c (the start of the body read in chunks and fed
// to the engine): the handler never panics, answers 200 or 413, and a 200
// carries frames that decode and end the attempt.
func FuzzRequestBody(f *testing.F) {
	f.Add(frames(journal(`"Alice"`)...), false)
	f.Add(frames(journal(`"Alice"`)...), true)
	f.Add(frames(start(3, ""), input(`"Alice"`)), true)
	f.Add(header(wire.TypeStart, 1<<30), false)
	f.Add([]byte("garbage"), true)
	var handlers [2]*h2c.Handler
	for i, opts := range [][]h2c.Option{nil, {h2c.WithRequestResponse()}} {
		h, err := h2c.NewHandler(testServices(), append(opts, h2c.WithLogger(quietLogger()), h2c.WithMaxBodyBytes(1<<16), h2c.WithMaxFrameBytes(1<<15))...)
		if err != nil {
			f.Fatal(err)
		}
		handlers[i] = h
	}
	f.Fuzz(func(t *testing.T, body []byte, requestResponse bool) {
		h := handlers[0]
		if requestResponse {
			h = handlers[1]
		}
		req := httptest.NewRequest(http.MethodPost, "/invoke/Greeter/greet", bytes.NewReader(body))
		req.ProtoMajor, req.ProtoMinor = 2, 0 // bidirectional without full duplex
		req.Header.Set("content-type", wire.V6.ContentType())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
		case http.StatusRequestEntityTooLarge:
			if len(body) <= 1<<16 {
				t.Fatalf("413 for a body of %d bytes", len(body))
			}
			return
		default:
			t.Fatalf("status %d %q", w.Code, w.Body.Bytes())
		}
		msgs, err := decodeFrames(w.Body.Bytes())
		if err != nil {
			t.Fatalf("response frames: %v", err)
		}
		if n := len(msgs); n == 0 {
			t.Fatal("empty response")
		} else if typ := msgs[n-1].Type(); typ != wire.TypeEnd && typ != wire.TypeError && typ != wire.TypeSuspension {
			t.Fatalf("response ends with %v, not the end of the attempt", typ)
		}
	})
}
