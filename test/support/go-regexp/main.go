// Answers, for each JSON line {"pattern": ..., "value": ...} on stdin, whether
// Go's regexp package matches the value against the pattern anchored at both
// ends the way Alertmanager anchors matcher values: "true", "false", or
// "error" when Go refuses the pattern.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
)

type query struct {
	Pattern string `json:"pattern"`
	Value   string `json:"value"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		var q query
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		re, err := regexp.Compile("^(?:" + q.Pattern + ")$")
		if err != nil {
			fmt.Fprintln(out, "error")
			continue
		}
		fmt.Fprintln(out, re.MatchString(q.Value))
	}
}
