package restate_test

import (
	"bytes"
	"os"
	"regexp"
	"testing"
)

// TestReadmeExamples checks that each complete example test shown in the
// README (a code block after a "<!-- example:PATH -->" line) is the file
// at PATH, so that what users copy compiles and passes.
func TestReadmeExamples(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)<!-- example:(\\S+) -->\n```go\n(.*?)```\n").FindAllSubmatch(readme, -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d example blocks in README.md, want the props and restatetest ones", len(blocks))
	}
	for _, b := range blocks {
		path, code := string(b[1]), b[2]
		file, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("README.md shows %s: %v", path, err)
			continue
		}
		if !bytes.Equal(file, code) {
			t.Errorf("the block of README.md after <!-- example:%s --> differs from the file; copy the file into it", path)
		}
	}
}
