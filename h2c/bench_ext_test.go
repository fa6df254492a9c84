package h2c_test

import (
	"bytes"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/wire"
)

// Benchmarks of one full greeter invocation through a real server and
// client on loopback, next to the transport floor: a bare net/http handler
// that reads the same request frames and writes the same response bytes,
// precomputed. Compare them with
//
//	go test -run '^$' -bench Greeter -benchmem -count 10 ./h2c/ > bench.txt
//	benchstat -col /impl bench.txt
//
// cpu-ns/op is the process's user and system CPU time per invocation,
// client included (the same client for both implementations).

// floor is the transport floor: it reads the request's frames and answers
// with precomputed bytes.
type floor struct {
	ct       []string
	response []byte
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fr := wire.NewReader(r.Body, 0)
	for {
		if _, err := fr.Next(); err != nil {
			if err != io.EOF {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			break
		}
	}
	w.Header()["Content-Type"] = f.ct
	_, _ = w.Write(f.response)
}

func benchGreeter() []restate.ServiceDefinition {
	return []restate.ServiceDefinition{restate.NewService("Greeter",
		restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
			return "Hello " + name + "!", nil
		}),
	)}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkGreeter(b *testing.B) {
	body := frames(journal(`"Alice"`)...)
	response := frames(output(`"Hello Alice!"`)...)
	for _, proto := range protos {
		for _, impl := range []string{"floor", "sdk", "sdk-request-response"} {
			b.Run("proto="+proto+"/impl="+impl, func(b *testing.B) {
				var handler http.Handler = &floor{ct: []string{wire.V6.ContentType()}, response: response}
				if impl != "floor" {
					var opts []h2c.Option
					if impl == "sdk-request-response" {
						opts = append(opts, h2c.WithRequestResponse())
					}
					h, err := h2c.NewHandler(benchGreeter(), opts...)
					if err != nil {
						b.Fatal(err)
					}
					handler = h
				}
				srv := serve(b, handler)
				client := newClient(b, proto)
				url := srv.URL + "/invoke/Greeter/greet"
				buf := make([]byte, 4096)
				invoke := func() {
					req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					req.Header.Set("content-type", wire.V6.ContentType())
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.ReadFull(resp.Body, buf)
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || !bytes.Equal(buf[:n], response) {
						b.Fatalf("status %d, body %q", resp.StatusCode, buf[:n])
					}
				}
				invoke() // connect
				b.ReportAllocs()
				cpu := cpuTime()
				b.ResetTimer()
				for b.Loop() {
					invoke()
				}
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
