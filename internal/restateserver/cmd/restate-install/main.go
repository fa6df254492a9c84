// Command restate-install installs restate-server and the restate CLI
// 1.7.12 from npm into the project's git-ignored cache (.cache/restate) if
// they are missing, and prints their paths.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/qcodr/restate-sdk-go/internal/restateserver"
)

func main() {
	b, err := restateserver.Install(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "restate-install:", err)
		os.Exit(1)
	}
	fmt.Println("restate-server:", b.Server)
	fmt.Println("restate CLI:   ", b.CLI)
	fmt.Println("restatectl:    ", b.Ctl)
}
