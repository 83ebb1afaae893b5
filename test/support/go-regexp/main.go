// Answers, for each JSON line {"pattern": ..., "value": ...} on stdin, with a
// JSON line of what Go's regexp package does with them:
//   - anchored: whether the value matches the pattern anchored at both ends
//     the way Alertmanager anchors matcher values ("true", "false", or
//     "error" when Go refuses the pattern);
//   - match: regexp.MatchString as a template's match calls it ("true",
//     "false", or Go's error message);
//   - replaced: ReplaceAllString(value, "<$1|${0}>") as a template's
//     reReplaceAll calls it (empty when the pattern is refused).
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

type answer struct {
	Anchored string `json:"anchored"`
	Match    string `json:"match"`
	Replaced string `json:"replaced"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for in.Scan() {
		var q query
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var a answer
		if anchored, err := regexp.Compile("^(?:" + q.Pattern + ")$"); err != nil {
			a.Anchored = "error"
		} else {
			a.Anchored = fmt.Sprint(anchored.MatchString(q.Value))
		}
		if re, err := regexp.Compile(q.Pattern); err != nil {
			a.Match = err.Error()
		} else {
			a.Match = fmt.Sprint(re.MatchString(q.Value))
			a.Replaced = re.ReplaceAllString(q.Value, "<$1|${0}>")
		}
		if err := encoder.Encode(a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
