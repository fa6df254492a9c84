// Command endpoint-floor is the transport floor of the benchmarks: a bare
// net/http handler, served like this SDK's endpoint (HTTP/1.1 and HTTP/2
// cleartext on one port), that reads the request frames of an invocation
// and writes precomputed response bytes. No SDK runs: whatever an SDK's
// endpoint costs beyond this is the SDK's own.
//
//	endpoint-floor -addr 127.0.0.1:9080 [-prefix P] [-cpuprofile FILE] [-memprofile FILE] [-pprof ADDR]
//
// POST /invoke/Greeter/greet reads the start message and the journal entries
// it announces, then answers with the output "Hello Alice!" (whatever the
// input) and the end message. POST /invoke/Waiter/wait does the same but
// waits for one more frame (the awakeable's notification) and answers
// "done". GET /discover answers a precomputed manifest, GET /health "ok".
// It frees memory on SIGUSR1 (package freemem), like the other endpoints.
package main

import (
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/qcodr/restate-sdk-go/bench/frames"
	"github.com/qcodr/restate-sdk-go/bench/internal/freemem"
	"github.com/qcodr/restate-sdk-go/bench/internal/profile"
	"github.com/qcodr/restate-sdk-go/bench/workload"
)

var (
	greetResponse = frames.AppendFrame(mustOutput(`"`+workload.GreetText("Alice")+`"`), frames.TypeEnd, nil)
	waitResponse  = frames.AppendFrame(mustOutput(`"done"`), frames.TypeEnd, nil)
	serverHeader  = []string{"endpoint-floor/1"}
)

// mustOutput returns an OutputCommandMessage frame with a JSON value:
// field 14 (Value) holding field 1 (content).
func mustOutput(json string) []byte {
	content := append([]byte{0x0a, byte(len(json))}, json...)
	return frames.AppendFrame(nil, frames.TypeOutput, append([]byte{0x72, byte(len(content))}, content...))
}

// manifest is a discovery (v2) answer for the greeter.
func manifest(prefix string) string {
	return `{"protocolMode":"BIDI_STREAM","minProtocolVersion":5,"maxProtocolVersion":7,"services":[{"name":"` +
		workload.Name(prefix, workload.Greeter) + `","ty":"SERVICE","handlers":[{"name":"greet"}]}]}`
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

type floor struct {
	greet, wait string
	manifest    []byte
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Restate-Server"] = serverHeader
	switch {
	case r.URL.Path == "/health":
		_, _ = io.WriteString(w, "ok")
	case r.URL.Path == "/discover":
		w.Header().Set("content-type", "application/vnd.restate.endpointmanifest.v2+json")
		_, _ = w.Write(f.manifest)
	case r.URL.Path == f.greet:
		f.invoke(w, r, 0, greetResponse)
	case r.URL.Path == f.wait:
		f.invoke(w, r, 1, waitResponse)
	default:
		http.NotFound(w, r)
	}
}

// invoke reads the start message, the journal it announces and extra more
// frames, then writes resp. Over HTTP/1.1 it then waits for the end of
// the request body, which the runtime closes after the end message.
func (f *floor) invoke(w http.ResponseWriter, r *http.Request, extra int, resp []byte) {
	ct := r.Header.Get("content-type")
	if !strings.HasPrefix(ct, "application/vnd.restate.invocation.v") {
		http.Error(w, "bad content type", http.StatusUnsupportedMediaType)
		return
	}
	if r.ProtoMajor == 1 {
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	if err := readFrames(r.Body, bp, extra); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header()["Content-Type"] = []string{ct}
	_, _ = w.Write(resp)
	if r.ProtoMajor == 1 {
		// The runtime ends the request body once it read the end message.
		// Wait for that: returning first makes net/http drain the body
		// itself after the response, which races with its next read on the
		// connection (a panic it recovers by closing the connection).
		_ = http.NewResponseController(w).Flush()
		_, _ = io.Copy(io.Discard, r.Body)
	}
}

// readFrames reads frames from body until it has seen the start message,
// the known entries it announces and extra frames more.
func readFrames(body io.Reader, bp *[]byte, extra int) error {
	buf := (*bp)[:0]
	defer func() { *bp = buf[:0] }()
	want := -1 // frames still expected after the start message; -1 before it
	off := 0
	for {
		for len(buf)-off >= frames.HeaderSize {
			fs, n := frames.Split(buf[off:], nil)
			if n == 0 {
				break
			}
			for _, fr := range fs {
				if want < 0 {
					if fr.Type != frames.TypeStart {
						return errors.New("the first frame is not a start message")
					}
					k, err := frames.KnownEntries(fr.Payload)
					if err != nil {
						return err
					}
					want = int(k) + extra
				} else {
					want--
				}
			}
			off += n
			if want == 0 {
				return nil
			}
		}
		if off > 0 && off == len(buf) {
			buf, off = buf[:0], 0
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil && n == 0 {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9080", "listen address")
	prefix := flag.String("prefix", "", "prefix of every service name")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until SIGTERM")
	memprofile := flag.String("memprofile", "", "write an allocation profile to this file at SIGTERM")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address")
	flag.Parse()
	freemem.OnSignal()
	profile.Serve(*pprofAddr)
	stop := profile.Start(*cpuprofile, *memprofile)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		stop()
		os.Exit(0)
	}()
	f := &floor{
		greet:    "/invoke/" + workload.Name(*prefix, workload.Greeter) + "/" + workload.GreeterGreet,
		wait:     "/invoke/" + workload.Name(*prefix, workload.Waiter) + "/" + workload.WaiterWait,
		manifest: []byte(manifest(*prefix)),
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Addr: *addr, Handler: f, Protocols: &p, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
