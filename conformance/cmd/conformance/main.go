// Command conformance runs the Go port of the Restate SDK conformance
// scenarios (package conformance/suite) against a test-services program.
//
// Usage:
//
//	conformance [-config default] [-mode bidi] [-services-bin bin/test-services]
//	            [-run REGEXP] [-parallel 2] [-timeout 30m] [-v] [-list]
//
// -config and -mode accept comma-separated lists; every combination runs.
// Configurations: default, v7, three-nodes, three-nodes-always-suspending,
// always-suspending, single-partition, lazy-state,
// lazy-state-always-suspending, persisted-timers (the official suite's
// names, such as threeNodes, work too); the three-node ones run every class
// against a cluster of three restate-server nodes. Modes: bidi,
// request-response (PROTOCOL_MODE of the services process). -run filters
// tests by "Class/test" (e.g. -run 'State/|Sleep/sleep$'). Each class gets
// its own restate-server and services process; -parallel classes run at
// once.
//
// The output has exactly one line per test,
//
//	PASS  default/bidi  State/add (1.2s)
//	FAIL  default/bidi  State/add (1.2s): reason
//
// followed by the tails of the runtime and services logs of every class
// with a failure, and a final "N passed, N failed" line. The exit status is
// 1 if any test failed, 2 on usage or setup errors. Diagnostics (-v) go to
// standard error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/qcodr/restate-sdk-go/conformance/suite"
	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

// logTailLines is how many lines of each log are printed for a failed class.
const logTailLines = 60

// options are the parsed flags.
type options struct {
	configs     []suite.Config
	modes       []string
	servicesBin string
	run         *regexp.Regexp
	verbose     bool
	parallel    int
	timeout     time.Duration
	list        bool
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(2)
	}
	os.Exit(run(opts, os.Stdout, os.Stderr))
}

// parseFlags parses and validates the command line.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "default", "comma-separated runtime configurations")
	mode := fs.String("mode", suite.ModeBidi, "comma-separated protocol modes of the services (bidi, request-response)")
	servicesBin := fs.String("services-bin", "bin/test-services", "test-services executable")
	runExpr := fs.String("run", "", "regexp selecting tests by \"Class/test\"")
	verbose := fs.Bool("v", false, "print diagnostics to standard error")
	parallel := fs.Int("parallel", 2, "classes run at once")
	timeout := fs.Duration("timeout", 30*time.Minute, "overall timeout")
	list := fs.Bool("list", false, "list the selected tests and exit")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	opts := options{servicesBin: *servicesBin, verbose: *verbose, parallel: *parallel, timeout: *timeout, list: *list}
	for _, name := range splitList(*config) {
		c, ok := suite.ConfigByName(name)
		if !ok {
			var names []string
			for _, c := range suite.Configurations() {
				names = append(names, c.Name)
			}
			return options{}, fmt.Errorf("unknown -config %q (have %v)", name, names)
		}
		opts.configs = append(opts.configs, c)
	}
	for _, m := range splitList(*mode) {
		if !slices.Contains(suite.Modes(), m) {
			return options{}, fmt.Errorf("unknown -mode %q (have %v)", m, suite.Modes())
		}
		opts.modes = append(opts.modes, m)
	}
	if len(opts.configs) == 0 || len(opts.modes) == 0 {
		return options{}, errors.New("-config and -mode must not be empty")
	}
	if *runExpr != "" {
		re, err := regexp.Compile(*runExpr)
		if err != nil {
			return options{}, fmt.Errorf("bad -run: %w", err)
		}
		opts.run = re
	}
	if opts.parallel < 1 {
		return options{}, errors.New("-parallel must be at least 1")
	}
	return opts, nil
}

// filter returns the -run predicate.
func (o options) filter() func(string) bool {
	if o.run == nil {
		return nil
	}
	return o.run.MatchString
}

// job is one class of one configuration and mode.
type job struct {
	config suite.Config
	mode   string
	class  *suite.Class
}

// plan lists the jobs with at least one selected test.
func plan(o options) ([]job, int, error) {
	var jobs []job
	total := 0
	for _, cfg := range o.configs {
		for _, mode := range o.modes {
			for _, name := range cfg.Classes {
				c, ok := suite.ClassByName(name)
				if !ok {
					return nil, 0, fmt.Errorf("configuration %s names unknown class %s", cfg.Name, name)
				}
				if n := len(suite.SelectedTests(c, o.filter())); n > 0 {
					jobs = append(jobs, job{config: cfg, mode: mode, class: c})
					total += n
				}
			}
		}
	}
	return jobs, total, nil
}

// run executes the plan and returns the exit status.
func run(o options, stdout, stderr io.Writer) int {
	jobs, total, err := plan(o)
	if err != nil {
		fmt.Fprintln(stderr, "conformance:", err)
		return 2
	}
	if o.list {
		for _, j := range jobs {
			for _, t := range suite.SelectedTests(j.class, o.filter()) {
				fmt.Fprintf(stdout, "%s/%s  %s/%s\n", j.config.Name, j.mode, j.class.Name, t.Name)
			}
		}
		return 0
	}
	if total == 0 {
		fmt.Fprintln(stderr, "conformance: no test matches -run")
		return 2
	}
	bin, err := checkExecutable(o.servicesBin)
	if err != nil {
		fmt.Fprintln(stderr, "conformance:", err)
		return 2
	}

	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	bins, err := restateserver.Install(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "conformance:", err)
		return 2
	}

	var (
		mu             sync.Mutex
		passed, failed int
		startedAt      = map[string]time.Time{}
		wallTime       = map[string]time.Duration{}
	)
	logf := func(format string, args ...any) {
		if o.verbose {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
		}
	}
	begin := time.Now()
	work := make(chan job)
	var wg sync.WaitGroup
	for range o.parallel {
		wg.Go(func() {
			for j := range work {
				key := j.config.Name + "/" + j.mode
				mu.Lock()
				if _, ok := startedAt[key]; !ok {
					startedAt[key] = time.Now()
				}
				mu.Unlock()
				rep := suite.RunClass(ctx, j.class, suite.RunOptions{
					ServicesBin: bin,
					Binaries:    bins,
					Config:      j.config,
					Mode:        j.mode,
					Filter:      o.filter(),
					Logf:        func(format string, args ...any) { logf(key+" "+format, args...) },
					OnResult: func(r suite.Result) {
						mu.Lock()
						defer mu.Unlock()
						if r.Err != nil {
							failed++
						} else {
							passed++
						}
						fmt.Fprintln(stdout, formatResult(j.config.Name, j.mode, r))
					},
				})
				mu.Lock()
				wallTime[key] = max(wallTime[key], time.Since(startedAt[key]))
				if rep.Failed() {
					fmt.Fprint(stdout, formatLogTails(j.config.Name, j.mode, rep, logTailLines))
				}
				mu.Unlock()
				logf("%s %s done in %s (transport %s)", key, j.class.Name, formatDuration(rep.Duration), rep.Transport)
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()

	keys := make([]string, 0, len(wallTime))
	for k := range wallTime {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(stderr, "conformance: %s finished %s after its first class started\n", k, formatDuration(wallTime[k]))
	}
	fmt.Fprintf(stderr, "conformance: total wall time %s\n", formatDuration(time.Since(begin)))
	fmt.Fprintln(stdout, formatSummary(passed, failed))
	if failed > 0 || passed != total {
		return 1
	}
	return 0
}

// checkExecutable resolves path and checks it is an executable file.
func checkExecutable(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("test-services binary: %w (build it or pass -services-bin)", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("test-services binary %s is not an executable file", abs)
	}
	return abs, nil
}
