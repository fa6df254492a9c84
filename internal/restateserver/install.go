package restateserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Version is the version of restate-server and of the restate CLI that
// [Install] provides.
const Version = "1.7.12"

// CacheDirEnv names the environment variable that overrides the cache
// directory used by [Install].
const CacheDirEnv = "RESTATE_CACHE_DIR"

// stampFile marks a completed and verified installation inside the versioned
// cache directory.
const stampFile = ".installed"

// Binaries holds the absolute paths of an installed runtime.
type Binaries struct {
	// Server is the restate-server executable.
	Server string
	// CLI is the restate command line tool.
	CLI string
	// Ctl is restatectl, the cluster administration tool (it talks to the
	// node address, see [Server.NodeAddress]).
	Ctl string
}

// CacheDir returns the directory under which [Install] places the npm
// packages: the value of RESTATE_CACHE_DIR when set, otherwise .cache/restate
// under the module root (see [ModuleRoot]).
func CacheDir() (string, error) {
	if d := os.Getenv(CacheDirEnv); d != "" {
		return filepath.Abs(d)
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("restateserver: %w (set %s to choose a cache directory)", err, CacheDirEnv)
	}
	return filepath.Join(root, ".cache", "restate"), nil
}

// ModuleRoot returns the nearest directory, starting at the working directory
// and walking up, that contains a go.mod file.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found in the working directory or any parent")
		}
		dir = parent
	}
}

// npmPlatform returns the suffix of the platform-specific npm packages that
// carry the binaries, e.g. "linux-x64".
func npmPlatform() (string, error) {
	var goos string
	switch runtime.GOOS {
	case "linux", "darwin":
		goos = runtime.GOOS
	default:
		return "", fmt.Errorf("restateserver: no restate-server npm package for GOOS=%s", runtime.GOOS)
	}
	var arch string
	switch runtime.GOARCH {
	case "amd64":
		arch = "x64"
	case "arm64":
		arch = "arm64"
	default:
		return "", fmt.Errorf("restateserver: no restate-server npm package for GOARCH=%s", runtime.GOARCH)
	}
	return goos + "-" + arch, nil
}

// binariesIn returns where npm places the binaries when installing into dir.
func binariesIn(dir string) (Binaries, error) {
	platform, err := npmPlatform()
	if err != nil {
		return Binaries{}, err
	}
	nm := filepath.Join(dir, "node_modules", "@restatedev")
	return Binaries{
		Server: filepath.Join(nm, "restate-server-"+platform, "bin", "restate-server"),
		CLI:    filepath.Join(nm, "restate-"+platform, "bin", "restate"),
		Ctl:    filepath.Join(nm, "restatectl-"+platform, "bin", "restatectl"),
	}, nil
}

// installed reports whether a verified installation is present in dir.
func installed(dir string, b Binaries) bool {
	stamp, err := os.ReadFile(filepath.Join(dir, stampFile))
	if err != nil || strings.TrimSpace(string(stamp)) != Version {
		return false
	}
	for _, p := range []string{b.Server, b.CLI, b.Ctl} {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// Install makes sure restate-server, the restate CLI and restatectl, all at
// [Version], are installed with npm under [CacheDir] and returns their paths.
//
// When the binaries are already present Install only stats them. Otherwise
// it takes an exclusive file lock (so that concurrent test processes install
// once), runs npm install, checks the versions the binaries report and marks
// the installation as complete. Node.js and npm must be on PATH for the first
// installation.
func Install(ctx context.Context) (Binaries, error) {
	cache, err := CacheDir()
	if err != nil {
		return Binaries{}, err
	}
	dir := filepath.Join(cache, Version)
	bins, err := binariesIn(dir)
	if err != nil {
		return Binaries{}, err
	}
	if installed(dir, bins) {
		return bins, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, fmt.Errorf("restateserver: create cache directory: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(cache, ".install.lock"))
	if err != nil {
		return Binaries{}, err
	}
	defer unlock()
	// Another process may have finished the installation while we waited.
	if installed(dir, bins) {
		return bins, nil
	}
	if err := npmInstall(ctx, dir); err != nil {
		return Binaries{}, err
	}
	if err := checkVersion(ctx, bins.Server, "restate-server "+Version); err != nil {
		return Binaries{}, err
	}
	if err := checkVersion(ctx, bins.CLI, "restate-cli "+Version); err != nil {
		return Binaries{}, err
	}
	if err := checkVersion(ctx, bins.Ctl, "restatectl "+Version); err != nil {
		return Binaries{}, err
	}
	tmp := filepath.Join(dir, stampFile+".tmp")
	if err := os.WriteFile(tmp, []byte(Version+"\n"), 0o644); err != nil {
		return Binaries{}, fmt.Errorf("restateserver: write install stamp: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stampFile)); err != nil {
		return Binaries{}, fmt.Errorf("restateserver: write install stamp: %w", err)
	}
	return bins, nil
}

// npmInstall installs the two npm packages into dir.
func npmInstall(ctx context.Context, dir string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("restateserver: node not found in PATH: Node.js and npm are required to install restate-server %s "+
			"(Debian/Ubuntu: apt-get install -y nodejs npm), or set %s to a directory holding an installation: %w", Version, CacheDirEnv, err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("restateserver: npm not found in PATH: npm is required to install restate-server %s "+
			"(Debian/Ubuntu: apt-get install -y npm), or set %s to a directory holding an installation: %w", Version, CacheDirEnv, err)
	}
	manifest, err := json.MarshalIndent(map[string]any{
		"name":    "restate-binaries",
		"private": true,
		"dependencies": map[string]string{
			"@restatedev/restate-server": Version,
			"@restatedev/restate":        Version,
			"@restatedev/restatectl":     Version,
		},
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), append(manifest, '\n'), 0o644); err != nil {
		return fmt.Errorf("restateserver: write package.json: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("restateserver: npm install of restate %s in %s failed: %w\n%s", Version, dir, err, lastLines(string(out), 40))
	}
	return nil
}

// checkVersion runs bin --version and checks that the output contains want.
func checkVersion(ctx context.Context, bin, want string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("restateserver: %s --version: %w\n%s", bin, err, out.String())
	}
	if !strings.Contains(out.String(), want) {
		return fmt.Errorf("restateserver: %s --version printed %q, want %q", bin, strings.TrimSpace(out.String()), want)
	}
	return nil
}

// lastLines returns at most the last n lines of s.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
